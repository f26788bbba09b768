// CPU cost of each piece of the guarded hot path, in one process (no HTTP server in the measure):
//
//   node bench/pieces.mjs
//
// Async pieces run closed-loop with 32 calls in flight (like the load's 32 connections) against a
// private redis-server on the other CPU, so this process's CPU time per call is the cost the app
// server pays. Subtracting neighbours shows each layer's share:
//   client.get -> client.mget (2 keys) -> store.getMany -> engine.decide -> http guard -> requireStepUp
import { spawnSync } from "node:child_process";
import { memoryStore } from "@stepup/core";
import { startRedisServer } from "@stepup/testkit";
import { Redis } from "ioredis";
import { createApp, toyUser } from "./apps.mjs";
import { pinLoadGenerator, prepare } from "./lib.mjs";

const ASYNC_CALLS = Number(process.env.STEPUP_PIECES_CALLS ?? 40_000);
const SYNC_CALLS = 200_000;
const CONCURRENCY = 32;

const pinned = pinLoadGenerator(); // Redis inherits CPU 0
const redis = await startRedisServer();
if (pinned) spawnSync("taskset", ["-a", "-pc", "1", String(process.pid)]); // this process: CPU 1

async function listen(app) {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** A request as Express builds it (its prototype chain), without a socket. */
function fakeRequest(app, cookie) {
  const req = Object.create(app.request);
  req.method = "GET";
  req.url = "/r";
  req.originalUrl = "/r";
  req.headers = { host: "127.0.0.1:3000", accept: "application/json", cookie, connection: "keep-alive" };
  const socket = { remoteAddress: "127.0.0.1", encrypted: false };
  req.socket = socket;
  Object.defineProperty(req, "connection", { value: socket });
  return req;
}

const results = [];
function record(name, calls, cpuMicros, wallMs) {
  const row = { name, cpuUsPerCall: cpuMicros / calls, wallUsPerCall: (wallMs * 1000) / calls };
  results.push(row);
  console.log(`${name.padEnd(44)} ${row.cpuUsPerCall.toFixed(2).padStart(8)} us CPU/call`);
}

async function asyncPiece(name, fn) {
  const run = async (n) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (i++ < n) await fn();
      }),
    );
  };
  await run(ASYNC_CALLS / 4); // warm-up (JIT)
  const cpu = process.cpuUsage();
  const t = performance.now();
  await run(ASYNC_CALLS);
  const used = process.cpuUsage(cpu);
  record(name, ASYNC_CALLS, used.user + used.system, performance.now() - t);
}

function syncPiece(name, fn) {
  for (let i = 0; i < SYNC_CALLS / 4; i++) fn();
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < SYNC_CALLS; i++) fn();
  const used = process.cpuUsage(cpu);
  record(name, SYNC_CALLS, used.user + used.system, performance.now() - t);
}

const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
try {
  // The stepup app on Redis, stepped up through its own API, then used without its HTTP server.
  const onRedis = await createApp("stepup", { client });
  const a = await listen(onRedis.app);
  const { cookie, sid, user } = await prepare("stepup", a.origin);
  a.server.close();
  // The same on memoryStore(): what the guard costs without any Redis client work.
  const onMemory = await createApp("stepup", { store: memoryStore() });
  const m = await listen(onMemory.app);
  const mem = await prepare("stepup", m.origin);
  m.server.close();

  const opts = { resource: "admin", action: "read", maxAge: 900 };
  const rule = onRedis.stepup.http.engine.rules.lookup("admin", "read");
  const req = fakeRequest(onRedis.app, cookie);
  const memReq = fakeRequest(onMemory.app, mem.cookie);
  const view = (c) => ({
    method: "GET",
    url: "http://127.0.0.1:3000/r",
    headers: { get: (n) => (n === "cookie" ? c : null) },
  });

  const store = onRedis.stepup.http.engine.config.store;
  const [sessionRaw] = await store.getMany(user, [`session:${sid}`, "revoked"]);
  if (!sessionRaw) throw new Error("no session record under the expected key");
  console.log(`session record: ${sessionRaw.length} bytes`);
  console.log(
    `CPU per call (${pinned ? "pinned to CPU 1, Redis on CPU 0" : "not pinned"}; ${CONCURRENCY} in flight)\n`,
  );
  syncPiece("sync: toy getUser (cookie lookup)", () => toyUser(req));
  syncPiece("sync: req.ip (Express getter, proxy-addr)", () => req.ip);
  syncPiece("sync: JSON.parse of the session record", () => JSON.parse(sessionRaw));
  syncPiece("sync: Date.now()", () => Date.now());

  await client.set("bench:key", "x".repeat(200));
  await asyncPiece("redis: client.get(key)", () => client.get("bench:key"));
  await asyncPiece("redis: client.mget([k1, k2])", () => client.mget(["bench:key", "bench:none"]));
  await asyncPiece("redis: redisStore.getMany(uid, 2 keys)", () =>
    store.getMany(user, [`session:${sid}`, "revoked"]),
  );
  const engine = onRedis.stepup.http.engine;
  const decide = async () => {
    const d = await engine.decide({ user: { id: user }, sid, rule });
    if (d.outcome !== "allow") throw new Error(`decide: ${d.outcome}`);
  };
  await asyncPiece("redis: engine.decide (core)", decide);
  const guard = onRedis.stepup.http.guard(opts);
  const guardCall = async () => {
    const r = await guard(view(cookie), { user: { id: user }, ip: "127.0.0.1" });
    if (r.kind !== "pass") throw new Error(`guard: ${r.kind}`);
  };
  await asyncPiece("redis: http guard (http + core)", guardCall);
  const mw = onRedis.stepup.requireStepUp(opts);
  const res = {};
  // The middleware answers through `next` (Express gets no promise back from it).
  const middleware = (r, m) => () =>
    new Promise((resolve, reject) => {
      m(r, res, (error) => (error ? reject(error) : resolve()));
      if (res.statusCode) reject(new Error(`requireStepUp answered ${res.statusCode}`));
    });
  await asyncPiece("redis: requireStepUp (express + http + core)", middleware(req, mw));

  const memGuard = onMemory.stepup.http.guard(opts);
  await asyncPiece("memory: http guard", async () => {
    const r = await memGuard(view(mem.cookie), { user: { id: mem.user }, ip: "127.0.0.1" });
    if (r.kind !== "pass") throw new Error(`guard: ${r.kind}`);
  });
  await asyncPiece("memory: requireStepUp", middleware(memReq, onMemory.stepup.requireStepUp(opts)));
} finally {
  client.disconnect();
  await redis.stop();
}
