// Threats: a per-process cache serving a revoked step-up (another process revoked the user, logged
// out or rotated the session) longer than the invalidation takes to arrive; serving anything while
// the invalidation link is down (a missed invalidation would be served for ever); a cache that
// grows without bound. Real redis-server, two processes' worth of stores and connections.
import { createStepUp, type StepUpUser, totp } from "@stepup/core";
import { type RedisServer, startRedisServer } from "@stepup/testkit";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { redisStore } from "./redis-store.js";

let server: RedisServer;
const connections: Redis[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  for (const c of connections.splice(0)) c.disconnect();
});
afterAll(async () => {
  await server?.stop();
});

function connect(opts: RedisOptions = {}): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: 1, ...opts });
  connections.push(c);
  return c;
}

/** A store with the cache, as one app process would make it. */
async function cachedStore(maxEntries?: number, maxAgeMs?: number) {
  const client = connect();
  const subscriber = connect({ protocol: 2, autoResubscribe: false });
  const store = redisStore({
    client,
    cache: { subscriber, ...(maxEntries ? { maxEntries } : {}), ...(maxAgeMs ? { maxAgeMs } : {}) },
  });
  await until(async () => {
    // On once both connections are ready and tracking is on: a read then fills the cache.
    await store.getMany("probe", ["k"], { cache: true });
    return store.peek?.("probe", ["k"]) !== undefined;
  });
  return { client, subscriber, store };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}

const scope = () => `u-${crypto.randomUUID()}`;

describe("redisStore client-side cache", () => {
  it("another process's write reaches this process's cache within a bounded lag (measured)", async () => {
    const a = await cachedStore();
    const b = redisStore({ client: connect() });
    const lags: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = scope();
      await b.set(s, "revoked", "0", 60);
      expect(await a.store.getMany(s, ["session:x", "revoked"], { cache: true })).toEqual([null, "0"]);
      expect(a.store.peek?.(s, ["session:x", "revoked"])).toEqual([null, "0"]);
      await b.set(s, "revoked", String(i + 1), 60);
      const acked = performance.now();
      await until(() => a.store.peek?.(s, ["session:x", "revoked"]) === undefined, 2000);
      lags.push(performance.now() - acked);
    }
    lags.sort((x, y) => x - y);
    const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]?.toFixed(2);
    console.log(
      `client cache invalidation lag after the writer's ack, ms: p50 ${p(0.5)} p99 ${p(0.99)} max ${p(1)}`,
    );
    expect(lags[Math.floor(0.99 * lags.length)]).toBeLessThan(250);
  });

  it("a revokeUser on another process stops the cached guard read: the engine reports not fresh", async () => {
    const a = await cachedStore();
    const bClient = connect();
    const secret = "client-cache-test-secret-0123456789abcdef";
    const make = (store: ReturnType<typeof redisStore>) =>
      createStepUp({ store, secret, appName: "T", factors: [totp()], logger: { warn() {}, error() {} } });
    const engineA = make(a.store);
    const engineB = make(redisStore({ client: bClient }));
    const user: StepUpUser = { id: scope() };
    const rule = engineA.rules.lookup("admin", "read");
    // A grant written straight into the session (what a verification leaves).
    const sid = "sid-1";
    await bClient.set(
      `stepup:{${user.id}}:session:${sid}`,
      JSON.stringify({
        uid: user.id,
        familyId: "f",
        createdAtMs: Date.now(),
        assurances: [
          {
            atMs: Date.now(),
            factor: "totp",
            factorId: "f1",
            level: "mfa",
            amr: ["otp"],
            userVerified: false,
            resource: "admin",
            action: "read",
          },
        ],
      }),
      "EX",
      600,
    );
    expect(await engineA.sessions.check(user.id, sid, rule)).toMatchObject({ fresh: true });
    // Now from memory.
    expect(a.store.peek?.(user.id, [`session:${sid}`, "revoked"])).toBeDefined();
    await engineB.revokeUser(user.id);
    await until(async () => (await engineA.sessions.check(user.id, sid, rule)).fresh === false, 2000);
  });

  it("this process's own write is never served stale, not even for a moment", async () => {
    const a = await cachedStore();
    const s = scope();
    await a.store.set(s, "session:x", "v1", 60);
    await a.store.getMany(s, ["session:x"], { cache: true });
    expect(a.store.peek?.(s, ["session:x"])).toEqual(["v1"]);
    await a.store.delete(s, ["session:x"]);
    expect(a.store.peek?.(s, ["session:x"])).toBeUndefined();
    await a.store.set(s, "session:x", "v2", 60);
    expect(a.store.peek?.(s, ["session:x"])).toBeUndefined();
  });

  it("the cache turns off while the invalidation link is down, and serves nothing missed meanwhile", async () => {
    const a = await cachedStore();
    const b = redisStore({ client: connect() });
    const s = scope();
    await b.set(s, "revoked", "0", 60);
    await a.store.getMany(s, ["revoked"], { cache: true });
    expect(a.store.peek?.(s, ["revoked"])).toEqual(["0"]);
    // The subscriber's socket drops: off as soon as the close is seen, emptied.
    a.subscriber.disconnect(true);
    await until(() => a.store.peek?.(s, ["revoked"]) === undefined, 1000);
    // A write nobody could tell us about.
    await b.set(s, "revoked", "1", 60);
    expect(await a.store.getMany(s, ["revoked"], { cache: true })).toEqual(["1"]);
    // Back: reconnected, relinked, and it serves the current value only.
    await until(async () => {
      await a.store.getMany(s, ["revoked"], { cache: true });
      return a.store.peek?.(s, ["revoked"]) !== undefined;
    });
    expect(a.store.peek?.(s, ["revoked"])).toEqual(["1"]);
  });

  it("a Redis restart empties the cache (nothing from before it is served)", async () => {
    const a = await cachedStore();
    const s = scope();
    await a.store.set(s, "revoked", "0", 60);
    await a.store.getMany(s, ["revoked"], { cache: true });
    await server.stop();
    await until(() => a.store.peek?.(s, ["revoked"]) === undefined, 2000);
    await server.start();
    await until(async () => {
      try {
        await a.store.getMany("probe", ["k"], { cache: true });
      } catch {
        return false;
      }
      return a.store.peek?.("probe", ["k"]) !== undefined;
    }, 10_000);
    // Empty server now: the old value is gone everywhere.
    expect(a.store.peek?.(s, ["revoked"])).toBeUndefined();
    expect(await a.store.getMany(s, ["revoked"], { cache: true })).toEqual([null]);
  });

  it("a connection that stops answering (half-open, no close event) turns the cache off within its heartbeat", async () => {
    const a = await cachedStore();
    const s = scope();
    await a.store.getMany(s, ["revoked"], { cache: true });
    expect(a.store.peek?.(s, ["revoked"])).toEqual([null]);
    // SIGSTOP: sockets stay open, nothing answers, no close event: what a partition looks like.
    server.pause();
    try {
      const paused = performance.now();
      await until(() => a.store.peek?.(s, ["revoked"]) === undefined, 3000);
      console.log(
        `client cache off ${(performance.now() - paused).toFixed(0)} ms after Redis stopped answering`,
      );
    } finally {
      server.resume();
    }
  });

  it("is bounded: maxEntries keeps the newest, maxAgeMs stops serving old entries", async () => {
    const a = await cachedStore(10, 200);
    const s = scope();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const k of keys) await a.store.getMany(s, [k], { cache: true });
    const served = keys.filter((k) => a.store.peek?.(s, [k]) !== undefined);
    expect(served.length).toBeLessThanOrEqual(10);
    expect(served).toContain("k49");
    await new Promise((r) => setTimeout(r, 250));
    expect(a.store.peek?.(s, ["k49"])).toBeUndefined();
  });

  it("bad cache options stop start-up naming the option", () => {
    const client = connect();
    expect(() => redisStore({ client, cache: { subscriber: connect() } })).toThrow(
      /cache\.subscriber.*protocol: 2/,
    );
    expect(() => redisStore({ client, cache: { subscriber: client } })).toThrow(/cache\.subscriber/);
    const sub = connect({ protocol: 2, autoResubscribe: false });
    expect(() => redisStore({ client, cache: { subscriber: sub, maxEntries: 0 } })).toThrow(
      /cache\.maxEntries/,
    );
  });
});
