// The stepup benchmark: a bare Express route, a route doing one Redis GET, the hand-written sudo
// check on express-session + connect-redis, and the route behind requireStepUp (see README.md).
//
//   pnpm --filter @stepup/tests run bench     (after `pnpm turbo run build`; `npm run bench` does both)
//
// Environment: STEPUP_BENCH_SECONDS (measured seconds per run, default 8), STEPUP_BENCH_WARMUP (2),
// STEPUP_BENCH_ROUNDS (5), STEPUP_BENCH_CONNECTIONS (32), STEPUP_BENCH_SCENARIOS (comma list).
//
// Plain JavaScript over the built packages: Node 20 cannot strip TypeScript types.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { generateWebhookSecret } from "@stepup/core";
import { startRedisServer } from "@stepup/testkit";
import {
  SCENARIOS as ALL,
  here,
  measure,
  pinLoadGenerator,
  prepare,
  startServer,
  stopAllServers,
} from "./lib.mjs";

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
const ROUNDS = intEnv("STEPUP_BENCH_ROUNDS", 5, 1);
const CONNECTIONS = intEnv("STEPUP_BENCH_CONNECTIONS", 32, 1);
const SCENARIOS = process.env.STEPUP_BENCH_SCENARIOS
  ? process.env.STEPUP_BENCH_SCENARIOS.split(",").map((s) => s.trim())
  : ALL;
for (const s of SCENARIOS) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}`);
const pinned = pinLoadGenerator(); // before Redis starts, so that it inherits CPU 0

// ---- Report

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");

function report(best, runs, meta) {
  const by = Object.fromEntries(best.map((r) => [r.scenario, r]));
  const ratio = (r, ref) => (by[ref] ? r.rps / by[ref].rps : Number.NaN);
  // CPU per request: the lowest over the rounds (a neighbour on the CPU can only add to it).
  const cpu = Object.fromEntries(
    SCENARIOS.map((s) => [s, Math.min(...runs.filter((r) => r.scenario === s).map((r) => r.cpuUs))]),
  );
  const cpuRatio = (s, ref) => (cpu[ref] && cpu[s] ? cpu[ref] / cpu[s] : Number.NaN);
  const lines = [
    "# stepup benchmark",
    "",
    `${meta.date}; Node ${process.version}; ${meta.pinned ? "server pinned to CPU 1, load generator and Redis to CPU 0" : "not pinned (taskset or a 2nd CPU missing)"}; ` +
      `${CONNECTIONS} connections, pipelining 1, ${WARMUP} s warm-up + ${SECONDS} s measured per run; ` +
      `${ROUNDS} interleaved round(s); per scenario the best run (highest req/s) is shown, ` +
      "and the server's CPU time per request is the lowest of the rounds.",
    "",
    "| scenario | req/s | p50 ms | p99 ms | vs session-baseline | vs redis-get | server CPU us/req | non-2xx | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of best) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(ratio(r, "session-baseline"), 2)}x | ${fmt(ratio(r, "redis-get"), 2)}x | ${fmt(cpu[r.scenario], 1)} | ${r.non2xx} | ${r.errors + r.timeouts} |`,
    );
  }
  lines.push("", "All runs, in the order run (req/s, server CPU us/req):", "");
  for (const s of SCENARIOS) {
    const list = runs.filter((r) => r.scenario === s).map((r) => `${fmt(r.rps)} (${fmt(r.cpuUs, 1)})`);
    lines.push(`- ${s}: ${list.join(", ")}`);
  }
  const verdicts = [];
  // The same ratio within each round (the two runs seconds apart): a slow spell of the shared
  // machine then weighs on both sides of the ratio, where the best runs may come from different ones.
  const perRound = (ref) =>
    [...new Set(runs.map((r) => r.round))].flatMap((round) => {
      const mine = runs.find((r) => r.round === round && r.scenario === "stepup");
      const theirs = runs.find((r) => r.round === round && r.scenario === ref);
      return mine && theirs ? [mine.rps / theirs.rps] : [];
    });
  const median = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const target = (name, ref, min) => {
    if (!by.stepup || !by[ref]) return;
    const v = ratio(by.stepup, ref);
    const rounds = perRound(ref);
    verdicts.push({
      target: `stepup >= ${min}x ${name} (req/s)`,
      value: v,
      byCpu: cpuRatio("stepup", ref),
      perRound: rounds,
      medianPerRound: rounds.length ? median(rounds) : Number.NaN,
      pass: v >= min,
    });
  };
  target("session-baseline", "session-baseline", TARGETS.baseline);
  target("redis-get", "redis-get", TARGETS.redisGet);
  if (verdicts.length > 0) {
    lines.push(
      "",
      "Targets (req/s ratio of the best runs; in brackets the same ratio from server CPU per request, a cross-check less sensitive to a busy neighbour, and the ratio within each round with its median):",
      "",
    );
    for (const v of verdicts) {
      lines.push(
        `- ${v.pass ? "PASS" : "FAIL"}: ${v.target}: measured ${fmt(v.value, 2)}x (CPU: ${fmt(v.byCpu, 2)}x; ` +
          `round by round: ${v.perRound.map((x) => fmt(x, 2)).join(", ")}, median ${fmt(v.medianPerRound, 2)}x)`,
      );
    }
  }
  return { markdown: `${lines.join("\n")}\n`, verdicts, cpu };
}

// ---- Main

/** A receiver that answers every webhook 204 (in this process, on the load generator's CPU). */
async function startReceiver() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.STEPUP_BENCH_WEBHOOK_URL = `http://127.0.0.1:${server.address().port}/hooks`;
  process.env.STEPUP_BENCH_WEBHOOK_SECRET = generateWebhookSecret();
  return server;
}

async function main() {
  const receiver = await startReceiver();
  const redis = await startRedisServer();
  const servers = {};
  try {
    for (const s of SCENARIOS) {
      const server = await startServer(s, redis.url, { pinned });
      const { cookie } = await prepare(s, server.origin);
      servers[s] = { ...server, cookie };
      console.log(`ready: ${s} at ${server.origin}`);
    }
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no scenario always runs first (or right after another).
      const order = SCENARIOS.map((_, i) => SCENARIOS[(i + round) % SCENARIOS.length]);
      for (const s of order) {
        const r = await measure(s, servers[s].origin, servers[s].cookie, {
          connections: CONNECTIONS,
          warmup: WARMUP,
          seconds: SECONDS,
          pid: servers[s].pid,
        });
        r.round = round + 1;
        runs.push(r);
        console.log(
          `round ${round + 1} ${s}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ` +
            `server CPU ${fmt(r.cpuUs, 1)} us/req, non-2xx ${r.non2xx}, errors ${r.errors}`,
        );
      }
    }
    const best = SCENARIOS.map((s) =>
      runs.filter((r) => r.scenario === s).reduce((a, b) => (b.rps > a.rps ? b : a)),
    );
    const meta = { date: new Date().toISOString(), pinned };
    const { markdown, verdicts, cpu } = report(best, runs, meta);
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
      pick: "best run per scenario (highest req/s); serverCpuUsPerRequest: lowest over the rounds",
      best,
      serverCpuUsPerRequest: cpu,
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
    await stopAllServers();
    await redis.stop();
    receiver.close();
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error?.stack ?? error}`);
  stopAllServers();
  process.exit(1);
});
