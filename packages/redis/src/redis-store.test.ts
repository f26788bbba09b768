import { storeContract } from "@stepup/core/testing";
import { type RedisServer, startRedisServer } from "@stepup/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisStore } from "./redis-store.js";

let server: RedisServer;
let client: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

storeContract("redisStore", async () => ({ store: redisStore({ client }) }));

const uniquePrefix = (): string => `t${crypto.randomUUID().replaceAll("-", "")}`;

/** Every key under a prefix, by SCAN (never KEYS, which blocks the server). */
async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys.sort();
}

/**
 * Redis Cluster's key-to-slot mapping (cluster spec: CRC16/XMODEM of the hash tag, mod 16384).
 * Computed here because `CLUSTER KEYSLOT` answers "cluster support disabled" on a plain server;
 * the first test pins it to the spec's and the docs' own values.
 */
function keySlot(key: string): number {
  let bytes = Buffer.from(key, "utf8");
  const open = bytes.indexOf("{");
  const close = open === -1 ? -1 : bytes.indexOf("}", open + 1);
  // Only a non-empty {...} is a tag; otherwise the whole key is hashed.
  if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16384;
}

/** Settles a promise within `ms`, so a hung command fails the test instead of the whole run. */
async function outcome(promise: Promise<unknown>, ms = 5000): Promise<"resolved" | "rejected" | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), ms);
  });
  const settled = promise.then(
    () => "resolved" as const,
    () => "rejected" as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("redisStore on a real redis-server", () => {
  it("keySlot (test helper) matches the Redis cluster spec and CLUSTER KEYSLOT docs", () => {
    expect(keySlot("123456789")).toBe(0x31c3 % 16384);
    expect(keySlot("somekey")).toBe(11058);
    expect(keySlot("foo{hash_tag}")).toBe(2515);
    // The spec's hash-tag examples: first "{" to the first "}" after it, non-empty.
    expect(keySlot("foo{bar}{zap}")).toBe(keySlot("bar"));
    expect(keySlot("foo{{bar}}zap")).toBe(keySlot("{bar"));
    expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
  });

  it("options: a missing client or a bad keyPrefix throws a TypeError naming the option", () => {
    // @ts-expect-error: plain-JS misuse
    expect(() => redisStore({})).toThrow(/client/);
    // @ts-expect-error: plain-JS misuse
    expect(() => redisStore(undefined)).toThrow(TypeError);
    for (const keyPrefix of ["", "a{b", "a}b", "a b"]) {
      expect(() => redisStore({ client, keyPrefix })).toThrow(/keyPrefix/);
    }
    // @ts-expect-error: plain-JS misuse
    expect(() => redisStore({ client, keyPrefix: 42 })).toThrow(TypeError);
  });

  it("layout and TTL: keys are <prefix>:{<scope>}:<key>; set, setIfAbsent and increment keys expire, durable ones do not", async () => {
    const keyPrefix = uniquePrefix();
    const store = redisStore({ client, keyPrefix });
    await store.set("user-1", "a", "v", 60);
    await store.setIfAbsent("user-1", "b", "v", 60);
    await store.increment("user-1", "c", 60);
    await store.set("user-1", "d", "v", null);
    await store.hashSet("user-1", "h", "f", "v");
    const key = (name: string) => `${keyPrefix}:{user-1}:${name}`;
    expect(await scanKeys(client, keyPrefix)).toEqual(["a", "b", "c", "d", "h"].map(key));
    for (const name of ["a", "b", "c"]) {
      const pttl = await client.pttl(key(name));
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
    }
    // PTTL -1: the key exists and has no expiry.
    expect(await client.pttl(key("d"))).toBe(-1);
    expect(await client.pttl(key("h"))).toBe(-1);
  });

  it("hash tag: all keys of one scope share one cluster slot, and braces in a scope cannot escape the tag", async () => {
    const scopes = ["user-1", "victim}:x", "{victim}", "}{", "x{y}z", "%7B", ""];
    const victimSlot = keySlot("{victim}");
    for (const scope of scopes) {
      const keyPrefix = uniquePrefix();
      const store = redisStore({ client, keyPrefix });
      await store.set(scope, "a", "v", 60);
      await store.setIfAbsent(scope, "}b{", "v", 60);
      await store.increment(scope, "c:{d}", 60);
      await store.hashSet(scope, "factors", "f", "v");
      const keys = await scanKeys(client, keyPrefix);
      expect(keys).toHaveLength(4);
      const slots = new Set(keys.map(keySlot));
      expect(slots.size).toBe(1);
      // Unescaped, "victim}:x" would tag as "victim" and land beside the victim's keys.
      if (scope.includes("victim")) expect([...slots][0]).not.toBe(victimSlot);
    }
  });

  it("outage: with redis-server stopped the store rejects instead of answering absent, then recovers on the same client", async () => {
    const own = await startRedisServer();
    const retryStrategy = () => 100;
    // No offline queue: commands fail at once while disconnected.
    const fast = new Redis(own.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy });
    // Offline queue on: commands wait, and fail after one reconnection attempt.
    const queued = new Redis(own.url, { maxRetriesPerRequest: 1, retryStrategy });
    // Without a listener ioredis logs every failed reconnection as "Unhandled error event".
    for (const redis of [fast, queued]) redis.on("error", () => {});
    try {
      await waitFor(() => fast.status === "ready" && queued.status === "ready", 5000);
      for (const redis of [fast, queued]) {
        const store = redisStore({ client: redis });
        await store.set("user-1", "challenge", "v", 60);
        expect(await store.getMany("user-1", ["challenge"])).toEqual(["v"]);
      }

      await own.stop();
      await waitFor(() => fast.status !== "ready" && queued.status !== "ready", 5000);
      for (const redis of [fast, queued]) {
        const store = redisStore({ client: redis });
        expect(await outcome(store.getMany("user-1", ["challenge"]))).toBe("rejected");
        expect(await outcome(store.take("user-1", "challenge"))).toBe("rejected");
        expect(await outcome(store.increment("user-1", "attempts", 60))).toBe("rejected");
        expect(await outcome(store.setIfAbsent("user-1", "lock", "v", 60))).toBe("rejected");
        expect(await outcome(store.hashGetAll("user-1", "factors"))).toBe("rejected");
      }

      await own.start();
      await waitFor(() => fast.status === "ready" && queued.status === "ready", 10_000);
      for (const redis of [fast, queued]) {
        const store = redisStore({ client: redis });
        expect((await store.increment("user-1", "attempts", 60)).count).toBeGreaterThanOrEqual(1);
        await store.set("user-1", "again", "v", 60);
        expect(await store.getMany("user-1", ["again"])).toEqual(["v"]);
      }
    } finally {
      fast.disconnect();
      queued.disconnect();
      await own.stop();
    }
  });
});
