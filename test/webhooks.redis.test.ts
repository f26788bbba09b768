// Webhooks from the durable outbox on a real redis-server, engines standing for processes (one
// ioredis connection each), delivered to a real receiver that checks every signature with the
// reference `standardwebhooks` library. Attacks and failures: one event delivered twice, or twice
// at once, by two workers; events lost when the process that recorded them stops before
// delivering; events lost, or a worker that dies, when Redis stops answering mid-way.
// (The Store contract's queue part, enqueue/claim/settle, runs on Redis in packages/redis.)
import { createStepUp, generateWebhookSecret, type StepUp, totp, type WebhookOptions } from "@stepup/core";
import { redisStore } from "@stepup/redis";
import { startWebhookReceiver, type WebhookReceiver } from "@stepup/testkit";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FAST_FAIL, privateRedis, waitReady } from "./support/redis.js";

const SECRET = generateWebhookSecret();
const ENGINE_SECRET = "webhooks-redis-test-secret-0123456789abcdef";

let redis: Awaited<ReturnType<typeof privateRedis>>;
let receiver: WebhookReceiver;
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  redis = await privateRedis();
});
afterAll(async () => {
  await redis?.close();
});
beforeEach(async () => {
  await redis.client.flushall();
  receiver = await startWebhookReceiver([SECRET]);
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await receiver?.close();
});

interface Proc {
  engine: StepUp;
  client: Redis;
  logs: { level: "warn" | "error"; message: string; meta?: Record<string, unknown> }[];
}

/**
 * One "process": its own Redis connection and engine, webhooks to the receiver. Short poll, a one
 * second retry and a one second delivery timeout (so a lease is 7 s), unless `webhooks` says else.
 */
async function proc(webhooks: Partial<WebhookOptions> = {}, client: RedisOptions = FAST_FAIL): Promise<Proc> {
  const connection = new Redis(redis.server.url, client);
  connection.on("error", () => {});
  await waitReady(connection, 10_000);
  const logs: Proc["logs"] = [];
  const engine = createStepUp({
    store: redisStore({ client: connection }),
    secret: ENGINE_SECRET,
    appName: "Acme",
    factors: [totp()],
    logger: {
      warn: (message, meta) => void logs.push({ level: "warn", message, ...(meta ? { meta } : {}) }),
      error: (message, meta) => void logs.push({ level: "error", message, ...(meta ? { meta } : {}) }),
    },
    webhooks: {
      endpoints: [{ url: receiver.url, secret: SECRET }],
      pollInterval: 50,
      timeout: 1000,
      retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      ...webhooks,
    },
  });
  cleanup.push(() => connection.disconnect());
  cleanup.push(() => engine.close());
  return { engine, client: connection, logs };
}

const acceptedIds = () => receiver.accepted().map((d) => d.id);

/** Every accepted delivery was verified with the reference library and is the event it names. */
function expectAllVerified(): void {
  for (const d of receiver.received) {
    expect(d.verifiedWith, d.id).toEqual([0]);
    expect(d.payload.data.id).toBe(d.id);
  }
}

describe("webhooks on a real Redis, two engines with workers", () => {
  it("60 events from both engines: each id accepted exactly once, never two attempts of one id at once", async () => {
    receiver.delayMs = 30; // a delivery takes a while: overlapping attempts would show
    const [a, b] = await Promise.all([proc(), proc()]);
    const events = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).engine.track(
          `user-${i % 5}`,
          { tag: "burst.item", metadata: { i } },
          { webhook: true },
        ),
      ),
    );
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(60);
    await receiver.waitFor(() => new Set(acceptedIds()).size >= 60, 20_000);
    // Settled: nothing left in the outbox, nothing more arrives.
    await new Promise((r) => setTimeout(r, 300));
    expect(acceptedIds().sort()).toEqual([...ids].sort());
    expect(receiver.received).toHaveLength(60);
    expect(receiver.maxInFlightPerId).toBe(1);
    expectAllVerified();
    expect(await redis.client.keys("*webhooks*outbox*")).toEqual([]);
  });

  it("events recorded by an engine with worker: false, then closed, are delivered by the other", async () => {
    const recorder = await proc({ worker: false });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await recorder.engine.track("user-r", { tag: "recorded.only" }, { webhook: true })).id);
    await recorder.engine.close();
    recorder.client.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(0); // nobody delivered them yet
    await proc(); // a process with a worker starts
    await receiver.waitFor(() => new Set(acceptedIds()).size >= 10, 10_000);
    expect(acceptedIds().sort()).toEqual(ids.sort());
    expectAllVerified();
  });

  it("a rolling deploy adding an endpoint: old and new engines share the outbox, and the new endpoint gets every event", async () => {
    const added = await startWebhookReceiver([SECRET]);
    cleanup.push(() => added.close());
    // Two engines in one test process: timers of one interval fire together, the first created
    // first, so it would win every race for a due item. The old engine polls on another rhythm, as
    // a separate process would.
    const current = await proc({
      endpoints: [
        { url: receiver.url, secret: SECRET },
        { url: added.url, secret: SECRET },
      ],
    });
    const old = await proc({ pollInterval: 230 });
    // The new receiver is not ready at first: its items wait for a retry, which either engine may
    // claim (the old one puts it back, to look again about a second later).
    added.mode = "fail";
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await current.engine.track("user-d", { tag: "deploy.item" }, { webhook: true })).id);
    await added.waitFor((got) => ids.every((id) => got.some((d) => d.id === id)));
    added.mode = "ok";
    await added.waitFor(() => ids.every((id) => added.accepted().some((d) => d.id === id)), 15_000);
    await receiver.waitFor(() => ids.every((id) => acceptedIds().includes(id)));
    expect(new Set(added.accepted().map((d) => d.id)).size).toBe(10);
    expect(old.logs).toEqual([]);
  }, 30_000);

  it("a paused Redis (SIGSTOP): workers log and keep the items; after SIGCONT every event is delivered", async () => {
    // commandTimeout: a command to a hung Redis fails after 300 ms instead of waiting for ever.
    const options: RedisOptions = { ...FAST_FAIL, commandTimeout: 300 };
    const [a, b] = await Promise.all([proc({}, options), proc({}, options)]);
    receiver.mode = "fail";
    const ids = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, i) =>
          (await (i % 2 ? a : b).engine.track("user-p", { tag: "paused.item" }, { webhook: true })).id,
      ),
    );
    // Every event was tried once (and failed): all are waiting for a retry in the outbox.
    await receiver.waitFor((got) => new Set(got.map((d) => d.id)).size >= 20, 10_000);
    redis.server.pause();
    let paused = true;
    try {
      const failed = () =>
        [...a.logs, ...b.logs].filter((l) => l.message === "webhook worker pass failed").length;
      const until = Date.now() + 10_000;
      while (failed() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(failed(), "the workers log the failed passes").toBeGreaterThanOrEqual(2);
      // The log names the error's kind, nothing from Redis or the events.
      for (const l of [...a.logs, ...b.logs]) expect(JSON.stringify(l)).not.toContain("user-p");
      receiver.mode = "ok";
      const before = receiver.accepted().length;
      await new Promise((r) => setTimeout(r, 1_200)); // retries fell due while Redis was hung
      expect(receiver.accepted().length, "nothing can be claimed while Redis is hung").toBe(before);
    } finally {
      if (paused) redis.server.resume();
      paused = false;
    }
    // A claim that timed out on the client still ran once Redis woke: those items wait out their
    // lease (2 x timeout + 5 s = 7 s), then are delivered like the rest.
    await receiver.waitFor(() => ids.every((id) => acceptedIds().includes(id)), 20_000);
    const accepted = acceptedIds();
    expect(new Set(accepted).size).toBe(20);
    const duplicates = accepted.length - new Set(accepted).size;
    if (duplicates > 0) console.log(`paused Redis: ${duplicates} event(s) accepted twice (at least once)`);
    expect(receiver.maxInFlightPerId).toBe(1);
    expectAllVerified();
  }, 45_000);

  it("a stopped Redis: the worker logs each failed pass and keeps running; once Redis is back it delivers new events", async () => {
    const a = await proc();
    await a.engine.track("user-s", { tag: "before.stop" }, { webhook: true });
    await receiver.waitFor(() => receiver.accepted().length >= 1);
    await redis.server.stop();
    try {
      const until = Date.now() + 10_000;
      while (!a.logs.some((l) => l.message === "webhook worker pass failed") && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      expect(a.logs.map((l) => l.message)).toContain("webhook worker pass failed");
    } finally {
      await redis.server.start(); // empty: persistence is off
    }
    await waitReady(a.client, 10_000);
    const after = await a.engine.track("user-s", { tag: "after.start" }, { webhook: true });
    await receiver.waitFor(() => acceptedIds().includes(after.id), 10_000);
    await waitReady(redis.client, 10_000);
  });
});
