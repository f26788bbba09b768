// Instructions per request of each scenario's server, counted by valgrind (callgrind): a measure that
// does not move with the machine's load, to compare versions of the hot path where req/s and CPU
// time on a shared machine are too noisy (rounds of the same scenario differ by 10 % and more).
//
//   node bench/instructions.mjs                      # redis-get, stepup, stepup-cached (defaults)
//   STEPUP_BENCH_SCENARIOS=bare,redis-get,stepup node bench/instructions.mjs
//
// Each server runs under `valgrind --tool=callgrind` (node --single-threaded, so the JIT compiles on
// the main thread and the count repeats); it is set up over HTTP as in the benchmark, warmed up
// (STEPUP_INSN_WARMUP requests, default 4000: the hot path is optimized by then), its counters are
// zeroed (`callgrind_control -z`), STEPUP_INSN_REQUESTS requests (default 4000, 8 connections) are
// sent, and the counters dumped: instructions of the server process (every thread: GC included)
// divided by the requests. Redis and the load generator are other processes, not counted.
// Instructions are not time (cache misses, syscalls' own cost), so this complements run.mjs.
// Count `stepup-cached` on a quiet machine: under valgrind's slowdown its cache's one-second
// liveness ping may time out when other work holds the CPU, which turns the cache off for a while
// (reads then go to Redis: a count some 7 % higher).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startRedisServer } from "@stepup/testkit";
import { SCENARIOS as ALL, here, load, prepare } from "./lib.mjs";

const SCENARIOS = (process.env.STEPUP_BENCH_SCENARIOS ?? "redis-get,stepup,stepup-cached")
  .split(",")
  .map((s) => s.trim());
for (const s of SCENARIOS) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}`);
const WARMUP = Number(process.env.STEPUP_INSN_WARMUP ?? 4000);
const REQUESTS = Number(process.env.STEPUP_INSN_REQUESTS ?? 4000);

if (spawnSync("valgrind", ["--version"]).status !== 0) {
  console.error("bench/instructions: valgrind is not installed (apt-get install valgrind)");
  process.exit(2);
}

function control(flag, pid) {
  const r = spawnSync("callgrind_control", [flag, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag}: ${r.stderr || r.stdout}`);
}

async function count(scenario, redisUrl) {
  const dir = mkdtempSync(join(tmpdir(), "stepup-insn-"));
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${join(dir, "cg.%p")}`,
      process.execPath,
      "--single-threaded",
      join(here, "server.mjs"),
      scenario,
    ],
    {
      env: { ...process.env, REDIS_URL: redisUrl, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${scenario}: no port in 120 s\n${stderr}`)), 120_000);
      exited.then((code) => reject(new Error(`${scenario}: exited ${code}\n${stderr}`)));
      createInterface({ input: child.stdout }).once("line", (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line).port);
      });
    });
    const origin = `http://127.0.0.1:${port}`;
    const { cookie } = await prepare(scenario, origin);
    await load(origin, cookie, WARMUP, 8);
    control("-z", child.pid);
    const done = await load(origin, cookie, REQUESTS, 8);
    control("-d", child.pid);
    const dumps = readdirSync(dir).filter((f) => /^cg\.\d+\.\d+$/.test(f));
    if (dumps.length !== 1) throw new Error(`${scenario}: expected one dump, found ${dumps.join(", ")}`);
    const text = readFileSync(join(dir, dumps[0]), "utf8");
    // STEPUP_INSN_KEEP=<dir>: keep the dump (callgrind_annotate shows it by function).
    if (process.env.STEPUP_INSN_KEEP) {
      mkdirSync(process.env.STEPUP_INSN_KEEP, { recursive: true });
      copyFileSync(join(dir, dumps[0]), join(process.env.STEPUP_INSN_KEEP, `${scenario}.callgrind`));
    }
    const total = Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1]);
    if (!Number.isFinite(total)) throw new Error(`${scenario}: no total in the dump`);
    return { scenario, requests: done.requests.total, insnPerRequest: total / done.requests.total };
  } finally {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const redis = await startRedisServer();
try {
  const rows = [];
  for (const scenario of SCENARIOS) {
    const row = await count(scenario, redis.url);
    rows.push(row);
    console.log(
      `${scenario}: ${Math.round(row.insnPerRequest)} instructions/request (${row.requests} requests)`,
    );
  }
  const base = rows.find((r) => r.scenario === "redis-get");
  console.log("\n| scenario | instructions/request | vs redis-get (its count / this one) |\n|---|---:|---:|");
  for (const r of rows) {
    const ratio = base ? (base.insnPerRequest / r.insnPerRequest).toFixed(2) : "n/a";
    console.log(`| ${r.scenario} | ${Math.round(r.insnPerRequest)} | ${ratio}x |`);
  }
} finally {
  await redis.stop();
}
