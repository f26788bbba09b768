// Redis Cluster refuses (CROSSSLOT) a command or script whose keys hash to different slots, and a
// script that touches a key it was not given can reach another node's data. Every call the store
// makes must therefore keep all its keys in one slot: the slot of its scope's hash tag. This file
// records the keys of every command the store sends (a Proxy around a real client on a plain
// redis-server, so the commands also run) and checks each call's slots with cluster-key-slot, the
// function ioredis itself routes cluster commands by. redis-store.cluster.test.ts runs the same
// store on a real cluster.
import { createRequire } from "node:module";
import type { Store } from "@stepup/core";
import { type RedisServer, startRedisServer } from "@stepup/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { redisStore } from "./redis-store.js";

/** cluster-key-slot (CommonJS, untyped): CRC16 of the key's hash tag (or the whole key), mod 16384. */
const keySlot = createRequire(import.meta.url)("cluster-key-slot") as (key: string) => number;

/** One command the store sent, with the keys it named. */
interface Sent {
  readonly command: string;
  readonly keys: readonly string[];
}

const flat = (args: readonly unknown[]): string[] => args.flat(Infinity).map(String);

/**
 * Which arguments of each command are keys. A command not listed here fails the test when the store
 * sends it: whoever adds one must declare its keys (so nothing escapes the slot check unseen).
 */
const KEYS_OF: Readonly<Record<string, (args: readonly unknown[]) => string[]>> = {
  mget: flat, // MGET key [key ...] (ioredis also takes an array)
  del: flat, // DEL key [key ...]
  set: (args) => [String(args[0])],
  getdel: (args) => [String(args[0])],
  lrange: (args) => [String(args[0])],
  hset: (args) => [String(args[0])],
  hgetall: (args) => [String(args[0])],
  hdel: (args) => [String(args[0])],
  // EVALSHA sha numkeys key [key ...] arg [arg ...]; EVAL script numkeys ...
  evalsha: (args) => flat(args.slice(2, 2 + Number(args[1]))),
  eval: (args) => flat(args.slice(2, 2 + Number(args[1]))),
};

let server: RedisServer;
let client: Redis;
let sent: Sent[] = [];
let undeclared: string[] = [];

/** A client that records every command's keys, then sends it on the real client. */
function recording(target: Redis): Redis {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof property !== "string" || typeof value !== "function") return value;
      const keysOf = KEYS_OF[property];
      return (...args: unknown[]) => {
        if (keysOf === undefined) {
          undeclared.push(property);
          throw new Error(`redis-store.slots.test: the store sent ${property}; declare its keys in KEYS_OF`);
        }
        sent.push({ command: property, keys: keysOf(args) });
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

beforeEach(() => {
  sent = [];
  undeclared = [];
});

/**
 * Scopes a store meets: a user id, the outbox, a client-address and a plugin scope, and hostile
 * ones whose braces, percent signs or emptiness would move the hash tag if they were not encoded.
 */
const SCOPES = [
  "user-1",
  "stepup:webhooks",
  "ip:203.0.113.0/24",
  "factor:webauthn",
  "victim}:x",
  "{victim}",
  "}{",
  "x{y}z",
  "%7B",
  "",
  "ünï cødé",
];

/** Keys with the characters that matter to a hash tag. */
const KEY = "k:{x}";

/**
 * Each Store method, called with every option that changes the commands it sends. `satisfies`
 * makes a method added to the Store interface a type error here until it is covered.
 */
const CALLS = {
  getMany: (s, scope) => [s.getMany(scope, [KEY, "b", "}c{"]), s.getMany(scope, [KEY])],
  set: (s, scope) => [s.set(scope, KEY, "v", 60), s.set(scope, "durable", "v", null)],
  setIfAbsent: (s, scope) => [
    s.setIfAbsent(scope, "nx", "v", 60),
    s.setIfAbsent(scope, "nx-durable", "v", null),
  ],
  advance: (s, scope) => [s.advance(scope, "step", 5, 60)],
  take: (s, scope) => [s.take(scope, KEY)],
  deleteIfEquals: (s, scope) => [s.deleteIfEquals(scope, "nx", "v"), s.deleteIfEquals(scope, KEY, "other")],
  increment: (s, scope) => [s.increment(scope, "attempts", 60)],
  append: (s, scope) => [
    s.append(scope, "challenges", "a", 1, 60),
    s.append(scope, "challenges", "b", 1, 60),
  ],
  appendAfter: (s, scope) => [
    s.appendAfter(scope, "audit", null, "first", 10, 60),
    s.appendAfter(scope, "audit", "not-the-last", "second", 10, 60),
  ],
  list: (s, scope) => [s.list(scope, "challenges")],
  delete: (s, scope) => [s.delete(scope, [KEY, "durable", "outbox", "}{"])],
  hashSet: (s, scope) => [s.hashSet(scope, "factors", "f", "v")],
  hashReplace: (s, scope) => [
    s.hashReplace(scope, "factors", "f", "w"),
    s.hashReplace(scope, "factors", "missing", "w"),
  ],
  hashGetAll: (s, scope) => [s.hashGetAll(scope, "factors")],
  hashDelete: (s, scope) => [s.hashDelete(scope, "factors", "f")],
  enqueue: (s, scope) => [
    s.enqueue(scope, "outbox", "id-1", "v", 1000),
    s.enqueue(scope, "outbox", "id-2", "v", 2000),
  ],
  claim: (s, scope) => [s.claim(scope, "outbox", 1500, 30_000, 10)],
  settle: (s, scope) => [
    s.settle(scope, "outbox", "id-1", { value: "v2", dueMs: 90_000 }),
    s.settle(scope, "outbox", "id-2", null),
  ],
} satisfies Record<Exclude<keyof Store, "peek">, (store: Store, scope: string) => Promise<unknown>[]>;

/** Commands each method must send (at least): proof that its multi-key calls were exercised. */
const MULTI_KEY: Partial<Record<keyof Store, number>> = {
  getMany: 3,
  delete: 8, // four keys and their `:items`
  enqueue: 2,
  claim: 2,
  settle: 2,
};

const uniquePrefix = (): string => `t${crypto.randomUUID().replaceAll("-", "")}`;

/** The slot every key of `scope` must hash to: the one of a plain SET's key. */
async function scopeSlot(store: Store, scope: string): Promise<number> {
  const before = sent.length;
  await store.set(scope, "slot-reference", "v", 60);
  const [reference] = sent.slice(before);
  expect(reference?.keys).toHaveLength(1);
  return keySlot(reference?.keys[0] ?? "");
}

describe("redisStore keeps every call in its scope's cluster slot (keys recorded on a real client)", () => {
  it("cluster-key-slot agrees with the Redis Cluster spec's examples and with the hash tag rules", () => {
    expect(keySlot("123456789")).toBe(0x31c3);
    expect(keySlot("somekey")).toBe(11058);
    expect(keySlot("foo{hash_tag}")).toBe(2515);
    expect(keySlot("foo{bar}{zap}")).toBe(keySlot("bar"));
    expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
  });

  it("a plain scope is the hash tag itself: <prefix>:{user-1}:<key> is in the slot of user-1", async () => {
    const store = redisStore({ client: recording(client), keyPrefix: uniquePrefix() });
    expect(await scopeSlot(store, "user-1")).toBe(keySlot("user-1"));
    expect(await scopeSlot(store, "stepup:webhooks")).toBe(keySlot("stepup:webhooks"));
    // A brace in a scope is encoded: the tag does not end early at the victim's name.
    expect(await scopeSlot(store, "victim}:x")).not.toBe(keySlot("victim"));
    expect(await scopeSlot(store, "{victim}")).not.toBe(keySlot("victim"));
  });

  for (const [method, call] of Object.entries(CALLS) as [
    keyof Store,
    (s: Store, scope: string) => Promise<unknown>[],
  ][]) {
    it(`${method}: every command's keys are in the scope's slot, for ${SCOPES.length} scopes (scripts: also after SCRIPT FLUSH, through the EVAL fallback)`, async () => {
      for (const scope of SCOPES) {
        // A new prefix per scope: each run starts from absent keys.
        const store = redisStore({ client: recording(client), keyPrefix: uniquePrefix() });
        const expected = await scopeSlot(store, scope);
        // Set up what the method reads (a queue to claim and settle, a list to read, a hash).
        for (const setup of ["enqueue", "hashSet", "append"] as const)
          if (setup !== method) await Promise.all(CALLS[setup](store, scope));
        // Twice: after SCRIPT FLUSH (EVALSHA answers NOSCRIPT, then EVAL), then with the script cached.
        for (const round of ["flushed", "cached"]) {
          if (round === "flushed") await client.script("FLUSH");
          const start = sent.length;
          await Promise.all(call(store, scope));
          const calls = sent.slice(start);
          const what = `${method} on scope ${JSON.stringify(scope)} (${round})`;
          expect(calls.length, `${what}: sent no command`).toBeGreaterThan(0);
          for (const { command, keys } of calls) {
            expect(keys.length, `${what}: ${command} named no key`).toBeGreaterThan(0);
            expect(
              keys.map((key) => ({ key, slot: keySlot(key) })),
              `${what}: ${command}`,
            ).toEqual(keys.map((key) => ({ key, slot: expected })));
          }
          const keyCount = Math.max(...calls.map((c) => c.keys.length));
          expect(keyCount, `${what}: the multi-key call was exercised`).toBeGreaterThanOrEqual(
            MULTI_KEY[method] ?? 1,
          );
          if (round === "flushed" && calls.some((c) => c.command === "evalsha"))
            expect(
              calls.map((c) => c.command),
              `${what}: NOSCRIPT falls back to EVAL`,
            ).toContain("eval");
        }
      }
      expect(undeclared).toEqual([]);
    });
  }

  it("delete also removes each key's queue values (<key>:items), in the same slot", async () => {
    const keyPrefix = uniquePrefix();
    const store = redisStore({ client: recording(client), keyPrefix });
    await store.enqueue("user-1", "outbox", "id", "v", 0);
    const start = sent.length;
    await store.delete("user-1", ["outbox"]);
    expect(sent.slice(start)).toEqual([
      { command: "del", keys: [`${keyPrefix}:{user-1}:outbox`, `${keyPrefix}:{user-1}:outbox:items`] },
    ]);
    expect(await client.exists(`${keyPrefix}:{user-1}:outbox`, `${keyPrefix}:{user-1}:outbox:items`)).toBe(0);
  });
});
