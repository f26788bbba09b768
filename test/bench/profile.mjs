// CPU profile of one scenario's server under the benchmark's load, summarized:
//
//   node bench/profile.mjs [scenario=stepup] [seconds=8]
//
// Writes results/profiles/<scenario>-*.cpuprofile (open it in Chrome DevTools) and prints the
// self time by package, the functions with the most self time, and the inclusive time of every
// function above 1 %, also in us per request. STEPUP_PROFILE_INTERVAL_US sets the sampling period.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startRedisServer } from "@stepup/testkit";
import { here, measure, pinLoadGenerator, prepare, SCENARIOS, startServer } from "./lib.mjs";

const scenario = process.argv[2] ?? "stepup";
const seconds = Number(process.argv[3] ?? 8);
const interval = Number(process.env.STEPUP_PROFILE_INTERVAL_US ?? 100); // sampling period, us
if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);

function where(frame) {
  const url = frame.url.replace(/^file:\/\//, "");
  const short = url.includes("node_modules/")
    ? url.slice(url.lastIndexOf("node_modules/") + 13)
    : url.replace(/^.*\/(packages|test)\//, "$1/");
  return `${frame.functionName || "(anonymous)"} ${short}:${frame.lineNumber + 1}`;
}

function group(frame) {
  const url = frame.url;
  if (!url)
    return frame.functionName.startsWith("(") ? frame.functionName : "native (V8/libuv: writes, parsing)";
  if (url.startsWith("node:")) return "node internals";
  const pkg = url.match(/\/packages\/([^/]+)\//);
  if (pkg && !url.includes("node_modules/")) return `@stepup/${pkg[1]}`;
  const nm = url.slice(url.lastIndexOf("node_modules/") + 13).split("/");
  if (url.includes("node_modules/")) return nm[0].startsWith("@") ? `${nm[0]}/${nm[1]}` : nm[0];
  if (url.includes("/test/bench/")) return "bench app";
  return url;
}

function summarize(profile, cpuUsPerRequest) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const groups = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(profile.samples[i]);
    const name = leaf.callFrame.functionName;
    if (name === "(idle)") {
      idle += dt;
      continue;
    }
    total += dt;
    const leafKey = where(leaf.callFrame);
    self.set(leafKey, (self.get(leafKey) ?? 0) + dt);
    const g = group(leaf.callFrame);
    groups.set(g, (groups.get(g) ?? 0) + dt);
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const key = where(byId.get(id).callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const pct = (v) => `${((100 * v) / total).toFixed(1).padStart(5)} %`;
  console.log(`\nbusy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
  const us = (v) =>
    Number.isFinite(cpuUsPerRequest)
      ? `${((v / total) * cpuUsPerRequest).toFixed(1).padStart(6)} us/req`
      : "";
  console.log("\nself time by package (us/req: the share times the server's CPU per request):");
  for (const [k, v] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`${pct(v)} ${us(v)}  ${k}`);
  console.log("\nself time, top 30:");
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${pct(v)} ${us(v)}  ${k}`);
  console.log("\ninclusive time, functions above 1 %:");
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1])) {
    if (v / total >= 0.01 && !k.startsWith("(root)")) console.log(`${pct(v)} ${us(v)}  ${k}`);
  }
}

const pinned = pinLoadGenerator();
const redis = await startRedisServer();
const dir = join(here, "results", "profiles");
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.startsWith(`${scenario}-`)) rmSync(join(dir, f));
const server = await startServer(scenario, redis.url, {
  pinned,
  nodeArgs: [
    "--cpu-prof",
    `--cpu-prof-interval=${interval}`,
    `--cpu-prof-dir=${dir}`,
    `--cpu-prof-name=${scenario}-${Date.now()}.cpuprofile`,
  ],
});
let cpuUs = Number.NaN;
try {
  const { cookie } = await prepare(scenario, server.origin);
  const r = await measure(scenario, server.origin, cookie, {
    connections: 32,
    warmup: 2,
    seconds,
    pid: server.pid,
  });
  cpuUs = r.cpuUs;
  console.log(
    `${scenario}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, non-2xx ${r.non2xx}`,
  );
} finally {
  await server.stop();
  await redis.stop();
}
const file = readdirSync(dir).find((f) => f.startsWith(`${scenario}-`) && f.endsWith(".cpuprofile"));
if (!file) throw new Error("no profile written");
console.log(`profile: ${join(dir, file)}`);
summarize(JSON.parse(readFileSync(join(dir, file), "utf8")), cpuUs);
