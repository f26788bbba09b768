// The stepup benchmark: a bare Express route, a route doing one Redis GET, the hand-written sudo
// check on express-session + connect-redis, and the route behind requireStepUp (see README.md).
//
//   pnpm --filter @stepup/tests run bench     (after `pnpm turbo run build`; `npm run bench` does both)
//
// Environment: STEPUP_BENCH_SECONDS (measured seconds per run, default 8), STEPUP_BENCH_WARMUP (2),
// STEPUP_BENCH_ROUNDS (2), STEPUP_BENCH_CONNECTIONS (32), STEPUP_BENCH_SCENARIOS (comma list).
//
// Plain JavaScript over the built packages: Node 20 cannot strip TypeScript types.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startRedisServer } from "@stepup/testkit";
import autocannon from "autocannon";
import { generate } from "otplib";

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ["bare", "redis-get", "session-baseline", "stepup", "stepup-session"];
const TARGETS = { baseline: 1.5, redisGet: 0.85 };

function intEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return n;
}

const SECONDS = intEnv("STEPUP_BENCH_SECONDS", 8, 1);
const WARMUP = intEnv("STEPUP_BENCH_WARMUP", 2, 0);
const ROUNDS = intEnv("STEPUP_BENCH_ROUNDS", 2, 1);
const CONNECTIONS = intEnv("STEPUP_BENCH_CONNECTIONS", 32, 1);
const SCENARIOS = process.env.STEPUP_BENCH_SCENARIOS
  ? process.env.STEPUP_BENCH_SCENARIOS.split(",").map((s) => s.trim())
  : ALL;
for (const s of SCENARIOS) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}`);

// ---- CPU pinning: the server alone on core 1; this process (autocannon) and Redis on core 0.

function canPin() {
  if (availableParallelism() < 2) return false;
  const r = spawnSync("taskset", ["-c", "1", "true"]);
  return r.status === 0;
}
const pinned = canPin();
if (pinned) {
  // -a: every thread (libuv pool, V8 helpers). redis-server, started after this, inherits core 0.
  const r = spawnSync("taskset", ["-a", "-pc", "0", String(process.pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset on the load generator failed: ${r.stderr}`);
}

// ---- Servers

const children = new Set();

async function startServer(scenario, redisUrl) {
  const script = join(here, "server.mjs");
  const [cmd, args] = pinned
    ? ["taskset", ["-c", "1", process.execPath, script, scenario]]
    : [process.execPath, [script, scenario]];
  const child = spawn(cmd, args, {
    env: { ...process.env, REDIS_URL: redisUrl, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${scenario}: server did not start in 15 s`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${scenario}: server exited with code ${code}`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line).port);
      } catch {
        reject(new Error(`${scenario}: unexpected first line ${line}`));
      }
    });
  });
  lines.on("line", (line) => process.stdout.write(`[${scenario}] ${line}\n`));
  return { child, origin: `http://127.0.0.1:${port}` };
}

function stopAll() {
  for (const child of children) child.kill("SIGTERM");
}
process.once("exit", stopAll);

// ---- Setup over HTTP: each scenario's own login (and step-up), as a client would do it.

class Jar {
  cookies = new Map();
  take(response) {
    for (const c of response.headers.getSetCookie()) {
      const pair = c.split(";")[0];
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function call(origin, jar, method, path, body, expected = 200) {
  const headers = { accept: "application/json", origin };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(origin + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  jar.take(response);
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${response.status}: ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** Enrolls TOTP and steps up for admin:read through the JSON API; the jar ends with the rotated cookie. */
async function stepUpThroughApi(origin, jar) {
  const enroll = await call(origin, jar, "POST", "/stepup/api/factors/totp", {}, 201);
  const nowS = () => Math.floor(Date.now() / 1000);
  // Confirm with the previous step's code, verify with the current one: a step is accepted once.
  const confirmCode = await generate({ secret: enroll.secret, epoch: nowS() - 30 });
  await call(origin, jar, "POST", `/stepup/api/factors/totp/${enroll.factorId}/confirm`, { code: confirmCode });
  const challenge = await call(origin, jar, "POST", "/stepup/api/challenges", { resource: "admin", action: "read" }, 201);
  const code = await generate({ secret: enroll.secret, epoch: nowS() });
  const verified = await call(origin, jar, "POST", `/stepup/api/challenges/${challenge.challengeId}/verify`, {
    factor: "totp",
    code,
  });
  if (verified.success !== true) throw new Error(`step-up failed: ${JSON.stringify(verified)}`);
}

async function prepare(scenario, origin) {
  const jar = new Jar();
  const user = `alice-${scenario}`; // one user per scenario: the servers share one Redis
  if (scenario === "session-baseline") {
    await call(origin, jar, "POST", "/login", { user });
    await call(origin, new Jar(), "GET", "/r", undefined, 401); // no cookie: refused
    await call(origin, jar, "GET", "/r", undefined, 401); // signed in, no MFA yet: refused
    await call(origin, jar, "POST", "/mfa", {});
  } else if (scenario === "stepup" || scenario === "stepup-session") {
    await call(origin, jar, "POST", "/login", { user });
    await call(origin, new Jar(), "GET", "/r", undefined, 401); // no cookie: refused
    await call(origin, jar, "GET", "/r", undefined, 401); // signed in, no step-up yet: refused
    jar.cookies.delete("stepup"); // the 401 issued a step-up cookie; start the API flow from none
    await stepUpThroughApi(origin, jar);
  }
  // The measured request must succeed before it is measured.
  const body = await call(origin, jar, "GET", "/r");
  if (body?.ok !== true) throw new Error(`${scenario}: GET /r answered ${JSON.stringify(body)}`);
  return jar.header();
}

// ---- Load

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(scenario, origin, cookie) {
  const base = {
    url: `${origin}/r`,
    connections: CONNECTIONS,
    pipelining: 1,
    headers: cookie ? { cookie, accept: "application/json" } : { accept: "application/json" },
  };
  if (WARMUP > 0) await cannon({ ...base, duration: WARMUP });
  // autocannon's own histogram keeps whole milliseconds; record the exact times here instead.
  const latencies = [];
  const instance = autocannon({ ...base, duration: SECONDS }, () => {});
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await new Promise((resolve, reject) => {
    instance.once("done", resolve);
    instance.once("error", reject);
  });
  latencies.sort((a, b) => a - b);
  const ok = result["2xx"];
  return {
    scenario,
    rps: ok / result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
  };
}

// ---- Report

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");

function report(best, runs, meta) {
  const by = Object.fromEntries(best.map((r) => [r.scenario, r]));
  const ratio = (r, ref) => (by[ref] ? r.rps / by[ref].rps : Number.NaN);
  const lines = [
    `# stepup benchmark`,
    "",
    `${meta.date}; Node ${process.version}; ${meta.pinned ? "server pinned to CPU 1, load generator and Redis to CPU 0" : "not pinned (taskset or a 2nd CPU missing)"}; ` +
      `${CONNECTIONS} connections, pipelining 1, ${WARMUP} s warm-up + ${SECONDS} s measured per run; ` +
      `${ROUNDS} interleaved round(s), best run per scenario (highest req/s) shown.`,
    "",
    "| scenario | req/s | p50 ms | p99 ms | vs session-baseline | vs redis-get | non-2xx | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of best) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(ratio(r, "session-baseline"), 2)}x | ${fmt(ratio(r, "redis-get"), 2)}x | ${r.non2xx} | ${r.errors + r.timeouts} |`,
    );
  }
  lines.push("", "All runs (req/s per round, in the order run):", "");
  for (const s of SCENARIOS) {
    lines.push(`- ${s}: ${runs.filter((r) => r.scenario === s).map((r) => fmt(r.rps)).join(", ")}`);
  }
  const verdicts = [];
  if (by.stepup && by["session-baseline"]) {
    const v = ratio(by.stepup, "session-baseline");
    verdicts.push({ target: `stepup >= ${TARGETS.baseline}x session-baseline`, value: v, pass: v >= TARGETS.baseline });
  }
  if (by.stepup && by["redis-get"]) {
    const v = ratio(by.stepup, "redis-get");
    verdicts.push({ target: `stepup >= ${TARGETS.redisGet}x redis-get`, value: v, pass: v >= TARGETS.redisGet });
  }
  if (verdicts.length > 0) {
    lines.push("", "Targets:", "");
    for (const v of verdicts) lines.push(`- ${v.pass ? "PASS" : "FAIL"}: ${v.target} (measured ${fmt(v.value, 2)}x)`);
  }
  return { markdown: `${lines.join("\n")}\n`, verdicts };
}

// ---- Main

async function main() {
  const redis = await startRedisServer();
  const servers = {};
  try {
    for (const s of SCENARIOS) {
      const server = await startServer(s, redis.url);
      const cookie = await prepare(s, server.origin);
      servers[s] = { ...server, cookie };
      console.log(`ready: ${s} at ${server.origin}`);
    }
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no scenario always runs first (or right after another).
      const order = SCENARIOS.map((_, i) => SCENARIOS[(i + round) % SCENARIOS.length]);
      for (const s of order) {
        const r = await measure(s, servers[s].origin, servers[s].cookie);
        r.round = round + 1;
        runs.push(r);
        console.log(
          `round ${round + 1} ${s}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
        );
      }
    }
    const best = SCENARIOS.map((s) =>
      runs.filter((r) => r.scenario === s).reduce((a, b) => (b.rps > a.rps ? b : a)),
    );
    const meta = { date: new Date().toISOString(), pinned };
    const { markdown, verdicts } = report(best, runs, meta);
    const out = join(here, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "latest.md"), markdown);
    const json = {
      ...meta,
      node: process.version,
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: WARMUP,
      seconds: SECONDS,
      rounds: ROUNDS,
      pick: "best run per scenario (highest req/s)",
      best,
      runs,
      verdicts,
    };
    writeFileSync(join(out, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\n${markdown}`);
    console.log(`written: ${join(out, "latest.md")}, ${join(out, "latest.json")}`);
    const broken = runs.filter((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0 || r.ok === 0);
    if (broken.length > 0) {
      console.error(
        `\nBENCHMARK INVALID: non-2xx answers or errors under load in ${[...new Set(broken.map((r) => r.scenario))].join(", ")}`,
      );
      process.exitCode = 1;
    }
  } finally {
    stopAll();
    await redis.stop();
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error?.stack ?? error}`);
  stopAll();
  process.exit(1);
});
