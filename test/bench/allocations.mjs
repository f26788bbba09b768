// Bytes allocated per request by each scenario's server, and by which functions, against the first
// scenario (default `redis-get`): garbage is what the guard's extra collections cost (see README.md).
//
//   node bench/allocations.mjs                         # redis-get, stepup
//   STEPUP_BENCH_SCENARIOS=redis-get,stepup,stepup-cached node bench/allocations.mjs
//
// Each server gets its own private Redis, is set up over HTTP as in the benchmark, warmed up
// (STEPUP_ALLOC_WARMUP requests, default 20000), then V8's sampling heap profiler (every 512 bytes
// on average, freed objects included: alloc-preload.cjs) runs over STEPUP_ALLOC_REQUESTS requests
// (default 20000, 32 connections). Printed: bytes per request of each scenario, and the functions
// whose allocations differ most from the first scenario's (a function's bytes include what V8
// inlined into it). STEPUP_ALLOC_KEEP=<dir> keeps the .heapprofile files (Chrome DevTools opens them).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer } from "@stepup/testkit";
import { SCENARIOS as ALL, here, load, prepare, startServer, stopAllServers } from "./lib.mjs";

const SCENARIOS = (process.env.STEPUP_BENCH_SCENARIOS ?? "redis-get,stepup").split(",").map((s) => s.trim());
for (const s of SCENARIOS) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}`);
const WARMUP = Number(process.env.STEPUP_ALLOC_WARMUP ?? 20_000);
const REQUESTS = Number(process.env.STEPUP_ALLOC_REQUESTS ?? 20_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes by function (name, file and line) of a sampling heap profile. */
function byFunction(profile) {
  const bytes = new Map();
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.includes("node_modules/")
      ? url.slice(url.lastIndexOf("node_modules/") + 13)
      : url.replace(/^.*\/(packages|test)\//, "$1/");
    const name = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    bytes.set(name, (bytes.get(name) ?? 0) + node.selfSize);
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile.head);
  return bytes;
}

async function measure(scenario, dir) {
  const redis = await startRedisServer();
  const out = join(dir, `${scenario}.heapprofile`);
  process.env.STEPUP_ALLOC_OUT = out;
  try {
    const server = await startServer(scenario, redis.url, {
      nodeArgs: ["--require", join(here, "alloc-preload.cjs")],
    });
    const { cookie } = await prepare(scenario, server.origin);
    await load(server.origin, cookie, WARMUP, 32);
    process.kill(server.pid, "SIGUSR1");
    await sleep(500);
    await load(server.origin, cookie, REQUESTS, 32);
    process.kill(server.pid, "SIGUSR2");
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      try {
        const profile = JSON.parse(readFileSync(out, "utf8"));
        await server.stop();
        return byFunction(profile);
      } catch {}
    }
    throw new Error(`${scenario}: no heap profile written`);
  } finally {
    await redis.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), "stepup-alloc-"));
try {
  const results = [];
  for (const s of SCENARIOS) {
    const bytes = await measure(s, dir);
    results.push({ scenario: s, bytes, total: [...bytes.values()].reduce((a, b) => a + b, 0) });
    if (process.env.STEPUP_ALLOC_KEEP) {
      mkdirSync(process.env.STEPUP_ALLOC_KEEP, { recursive: true });
      copyFileSync(join(dir, `${s}.heapprofile`), join(process.env.STEPUP_ALLOC_KEEP, `${s}.heapprofile`));
    }
  }
  const perRequest = (n) => Math.round(n / REQUESTS);
  const [base, ...others] = results;
  console.log(`\n| scenario | bytes allocated / request | vs ${base.scenario} |\n|---|---:|---:|`);
  for (const r of results)
    console.log(`| ${r.scenario} | ${perRequest(r.total)} | ${(r.total / base.total).toFixed(2)}x |`);
  for (const r of others) {
    const names = new Set([...r.bytes.keys(), ...base.bytes.keys()]);
    const diff = [...names]
      .map((n) => [n, (r.bytes.get(n) ?? 0) - (base.bytes.get(n) ?? 0)])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15);
    console.log(`\n${r.scenario}: functions allocating the most beyond ${base.scenario} (bytes / request)\n`);
    for (const [name, d] of diff) console.log(`  ${String(perRequest(d)).padStart(6)}  ${name}`);
  }
} finally {
  stopAllServers();
  rmSync(dir, { recursive: true, force: true });
}
