import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startRedisServer } from "@stepup/testkit";
import autocannon from "autocannon";
import { prepare } from "/work/main/test/bench/lib.mjs";

const scenario = process.argv[2];
const redis = await startRedisServer();
const child = spawn(
  process.execPath,
  ["--single-threaded", "--trace-opt", "--trace-deopt", "/work/main/test/bench/server.mjs", scenario],
  {
    env: { ...process.env, REDIS_URL: redis.url, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
let phase = "start";
const counts = { start: [], warm: [], measured: [] };
const port = await new Promise((resolve) =>
  createInterface({ input: child.stdout }).on("line", (l) => {
    if (l.startsWith('{"port"')) resolve(JSON.parse(l).port);
    else counts[phase].push(l);
  }),
);
const origin = `http://127.0.0.1:${port}`;
const { cookie } = await prepare(scenario, origin);
const load = (amount) =>
  new Promise((res, rej) =>
    autocannon({ url: `${origin}/r`, connections: 8, amount, headers: cookie ? { cookie } : {} }, (e, r) =>
      e ? rej(e) : res(r),
    ),
  );
phase = "warm";
await load(4000);
phase = "measured";
await load(6000);
await new Promise((r) => setTimeout(r, 200));
child.kill("SIGTERM");
await redis.stop();
console.log(scenario, "warm", counts.warm.length, "measured", counts.measured.length);
for (const l of counts.measured) console.log(l.slice(0, 300));
