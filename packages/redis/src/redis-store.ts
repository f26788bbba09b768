import { createHash } from "node:crypto";
import type { Store } from "@stepup/core";
import type { Cluster, Redis } from "ioredis";
import { type ClientCacheOptions, createClientCache } from "./client-cache.js";

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected (or connecting) ioredis `Redis` or `Cluster` client. The store never connects,
   * disconnects or reconfigures it: its lifecycle stays with the application.
   */
  readonly client: Redis | Cluster;
  /**
   * Prepended to every key, so stepup can share a Redis database with other data. No `{`, `}`
   * or whitespace: the braces would break the per-scope hash tag.
   * @default "stepup"
   */
  readonly keyPrefix?: string;
  /**
   * Serve the guard's read (a step-up session record and the user's revocation mark) from memory,
   * kept coherent by Redis server-assisted client-side caching: no Redis round trip on a fresh
   * request; a revocation reaches every process within the invalidation's delivery (measured, see
   * the README). Off by default. Not with a `Cluster`.
   */
  readonly cache?: ClientCacheOptions;
}

interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function lua(source: string): LuaScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

// INCR creates a missing key at 1 with no TTL, so the TTL is added when it has none: that is the
// moment of creation (a fixed window, never extended) and also heals a counter left without one.
// PTTL rounded up gives "seconds left", at least 1, where TTL would round to the nearest second.
// Lua makes INCR + EXPIRE one atomic step: no crash or concurrent call can see a TTL-less counter.
const INCREMENT = lua(`
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1]) * 1000
end
return {count, math.ceil(ttl / 1000)}
`);

// HSET alone would re-create a field that a concurrent HDEL just removed (a deleted factor coming
// back after its last-use update); the check and the write must be one atomic script.
const HASH_REPLACE = lua(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`);

// Compare and delete in one step: a late release of a claim never deletes the next holder's.
const DELETE_IF_EQUALS = lua(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

// Compare and write in one step: of two concurrent callers, the smaller value can never land after
// the larger one (a TOTP time step older than the last one used stays refused).
const ADVANCE = lua(`
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`);

// RPUSH, then LTRIM to the newest ARGV[2] values, returning what was trimmed: one atomic step, so
// concurrent appends can never leave the list longer than its cap.
const APPEND = lua(`
local length = redis.call('RPUSH', KEYS[1], ARGV[1])
local max = tonumber(ARGV[2])
local dropped = {}
if length > max then
  dropped = redis.call('LRANGE', KEYS[1], 0, length - max - 1)
  redis.call('LTRIM', KEYS[1], length - max, -1)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return dropped
`);

// Compare-and-append: the list's last value must be ARGV[1] ('' for an empty list; stored values
// are never empty), else nothing changes and the actual last value comes back for a retry.
const APPEND_AFTER = lua(`
local last = redis.call('LINDEX', KEYS[1], -1)
if not last then last = '' end
if last ~= ARGV[1] then
  return {0, last}
end
local length = redis.call('RPUSH', KEYS[1], ARGV[2])
local max = tonumber(ARGV[3])
if length > max then
  redis.call('LTRIM', KEYS[1], length - max, -1)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {1}
`);

// A queue is a sorted set of ids by due time (KEYS[1]) beside a hash of their values (KEYS[2]),
// both under the scope's hash tag. Enqueue writes the value only when the id is new (HSETNX), so a
// repeated enqueue never duplicates an item nor moves its due time.
const ENQUEUE = lua(`
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`);

// Reads the due ids and pushes each to now + lease in the same script: of concurrent claimers,
// exactly one gets an item until its lease ends. An id without a value (a half-settled item) is
// dropped.
const CLAIM = lua(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local value = redis.call('HGET', KEYS[2], id)
  if value then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, id)
    table.insert(out, value)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`);

// Removes an item (ARGV[2] empty) or replaces its value and due time, only if it is still queued.
const SETTLE = lua(`
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`);

/**
 * Creates a {@link Store} over Redis (6.2 or later, for GETDEL), shared by every process that
 * uses the same Redis. Each method is one atomic Redis command or Lua script.
 *
 * Keys are `<keyPrefix>:{<scope>}:<key>`. The braces are a Redis Cluster hash tag, so every key
 * of one scope lives in one slot and multi-key calls (MGET, DEL) stay valid on a cluster. `{`, `}`
 * and `%` in a scope are percent-encoded, so a hostile user id cannot close the tag early and
 * address another scope's keys.
 *
 * Redis errors (connection lost, timeout, WRONGTYPE) are not caught: the promise rejects, and
 * stepup answers 503 rather than treating "unknown" as "absent". Give the client a bounded
 * `maxRetriesPerRequest` (and consider `enableOfflineQueue: false`) so an outage fails fast. On a
 * `Cluster`, keep `scaleReads: "master"` (replicas lag behind a revocation) and bound
 * `maxRedirections`: the package README's "Redis Cluster" section lists the options and why.
 *
 * @param options.client - an ioredis (5.4+ or 6) `Redis` or `Cluster`; never connected or quit here.
 * @param options.keyPrefix - key namespace; `"stepup"` by default.
 * @throws TypeError when `client` is missing or `keyPrefix` is empty or contains `{`, `}` or spaces.
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { redisStore } from "@stepup/redis";
 *
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
 * const store = redisStore({ client, keyPrefix: "myapp:stepup" });
 * // on shutdown, the application (not the store) calls client.quit()
 * ```
 */
export function redisStore(options: RedisStoreOptions): Store {
  // Plain-JS callers can pass nothing at all; they get the same TypeError as a missing client.
  const { client, keyPrefix = "stepup" }: Partial<RedisStoreOptions> = options ?? {};
  if (client === null || typeof client !== "object" || typeof client.mget !== "function") {
    throw new TypeError("redisStore: `client` must be an ioredis Redis or Cluster instance");
  }
  if (typeof keyPrefix !== "string" || !/^[^{}\s]+$/.test(keyPrefix)) {
    throw new TypeError("redisStore: `keyPrefix` must be a non-empty string without `{`, `}` or whitespace");
  }

  /** A scope's part of its keys (the hash tag keeps a scope in one Cluster slot). */
  const scopePrefix = (scope: string): string => `${keyPrefix}:{${encodeScope(scope)}}:`;
  const redisKey = (scope: string, key: string): string => scopePrefix(scope) + key;
  if (options.cache !== undefined && "nodes" in client && typeof client.nodes === "function")
    throw new TypeError("redisStore: `cache` is not available with a Redis Cluster client");
  const cache = options.cache === undefined ? undefined : createClientCache(client as Redis, options.cache);
  /** This process is about to write these keys: its cache forgets them first. */
  const wrote = cache
    ? (scope: string, ...keys: string[]) => cache.evict(keys.map((k) => redisKey(scope, k)))
    : () => {};

  // EVALSHA first (no script text on the wire); NOSCRIPT means this server or cluster node has not
  // cached it yet (restart, failover, SCRIPT FLUSH), and EVAL both runs and caches it.
  const run = async (
    script: LuaScript,
    key: string | string[],
    args: (string | number)[],
  ): Promise<unknown> => {
    const keys = typeof key === "string" ? [key] : key;
    try {
      return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  };
  // A queue's two keys: the due-time index and the values, in one slot (same scope tag).
  const queueKeys = (scope: string, key: string): string[] => [
    redisKey(scope, key),
    redisKey(scope, `${key}:items`),
  ];

  const store: Store = {
    getMany(scope, keys, options) {
      // MGET with no key is a syntax error in Redis. Not async: this is the guard's hot path.
      if (keys.length === 0) return Promise.resolve([]);
      // The scope's part once, not once per key (the guard reads two keys of one scope).
      const scoped = scopePrefix(scope);
      const ids = keys.map((key) => scoped + key);
      return options?.cache && cache ? cache.read(ids) : client.mget(ids);
    },

    ...(cache
      ? {
          peek(scope: string, keys: readonly string[]) {
            const scoped = scopePrefix(scope);
            return cache.peek(keys.map((key) => scoped + key));
          },
        }
      : {}),

    async set(scope, key, value, ttlSeconds) {
      wrote(scope, key);
      // A plain SET also drops any earlier TTL, which is what "durable" needs.
      if (ttlSeconds === null) await client.set(redisKey(scope, key), value);
      else await client.set(redisKey(scope, key), value, "EX", checkTtl(ttlSeconds));
    },

    async setIfAbsent(scope, key, value, ttlSeconds) {
      wrote(scope, key);
      // SET NX answers "OK" to the one writer and null to everyone else, atomically.
      const result =
        ttlSeconds === null
          ? await client.set(redisKey(scope, key), value, "NX")
          : await client.set(redisKey(scope, key), value, "EX", checkTtl(ttlSeconds), "NX");
      return result === "OK";
    },

    async advance(scope, key, value, ttlSeconds) {
      wrote(scope, key);
      if (!Number.isSafeInteger(value))
        throw new RangeError(`redisStore: advance needs an integer, got ${value}`);
      return (await run(ADVANCE, redisKey(scope, key), [value, checkTtl(ttlSeconds)])) === 1;
    },

    async append(scope, key, value, maxLength, ttlSeconds) {
      if (!Number.isSafeInteger(maxLength) || maxLength < 1)
        throw new RangeError(`redisStore: maxLength must be a whole number >= 1, got ${maxLength}`);
      const reply = await run(APPEND, redisKey(scope, key), [value, maxLength, checkTtl(ttlSeconds)]);
      if (!Array.isArray(reply)) throw new TypeError("redisStore: unexpected reply from the append script");
      return reply.map(String);
    },

    async appendAfter(scope, key, expectedLast, value, maxLength, ttlSeconds) {
      if (!Number.isSafeInteger(maxLength) || maxLength < 1)
        throw new RangeError(`redisStore: maxLength must be a whole number >= 1, got ${maxLength}`);
      if (value === "") throw new RangeError("redisStore: appendAfter needs a non-empty value");
      const reply = await run(APPEND_AFTER, redisKey(scope, key), [
        expectedLast ?? "",
        value,
        maxLength,
        checkTtl(ttlSeconds),
      ]);
      if (!Array.isArray(reply))
        throw new TypeError("redisStore: unexpected reply from the appendAfter script");
      if (reply[0] === 1) return { appended: true };
      const last = String(reply[1] ?? "");
      return { appended: false, last: last === "" ? null : last };
    },

    async list(scope, key) {
      return client.lrange(redisKey(scope, key), 0, -1);
    },

    async take(scope, key) {
      wrote(scope, key);
      // GETDEL (Redis 6.2+): read and delete in one command, so one caller gets the value.
      return client.getdel(redisKey(scope, key));
    },

    async deleteIfEquals(scope, key, expected) {
      wrote(scope, key);
      return (await run(DELETE_IF_EQUALS, redisKey(scope, key), [expected])) === 1;
    },

    async increment(scope, key, ttlSeconds) {
      wrote(scope, key);
      const reply = await run(INCREMENT, redisKey(scope, key), [checkTtl(ttlSeconds)]);
      if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
        throw new TypeError("redisStore: unexpected reply from the increment script");
      }
      return { count: reply[0], ttlSeconds: reply[1] };
    },

    async delete(scope, keys) {
      wrote(scope, ...keys);
      // DEL with no key is a syntax error in Redis.
      if (keys.length === 0) return;
      // A queue keeps its values beside its index (`<key>:items`): both go.
      await client.del(keys.flatMap((key) => [redisKey(scope, key), redisKey(scope, `${key}:items`)]));
    },

    async hashSet(scope, key, field, value) {
      await client.hset(redisKey(scope, key), field, value);
    },

    async hashReplace(scope, key, field, value) {
      return (await run(HASH_REPLACE, redisKey(scope, key), [field, value])) === 1;
    },

    async hashGetAll(scope, key) {
      // HGETALL answers an empty hash for a missing key, which is the contract's `{}`.
      return client.hgetall(redisKey(scope, key));
    },

    async hashDelete(scope, key, field) {
      return (await client.hdel(redisKey(scope, key), field)) === 1;
    },

    async enqueue(scope, key, id, value, dueMs) {
      await run(ENQUEUE, queueKeys(scope, key), [id, value, checkTime(dueMs)]);
    },

    async claim(scope, key, nowMs, leaseMs, max) {
      const reply = await run(CLAIM, queueKeys(scope, key), [
        checkTime(nowMs),
        checkTime(nowMs + leaseMs),
        Math.max(0, Math.floor(max)),
      ]);
      if (!Array.isArray(reply)) throw new TypeError("redisStore: unexpected reply from the claim script");
      const items: { id: string; value: string }[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2)
        items.push({ id: String(reply[i]), value: String(reply[i + 1]) });
      return items;
    },

    async settle(scope, key, id, next) {
      await run(
        SETTLE,
        queueKeys(scope, key),
        next === null ? [id, "", ""] : [id, next.value, checkTime(next.dueMs)],
      );
    },
  };
  return Object.freeze(store);
}

/**
 * Makes a scope safe inside `{...}`: Redis hashes only the text up to the first `}`, so a raw `}`
 * would end the tag early and `{}` (an empty scope) would hash the whole key. `%` is encoded first,
 * so the mapping stays one-to-one; the empty scope becomes a lone `%`, which no other scope yields.
 */
const NEEDS_ENCODING = /[%{}]/;

function encodeScope(scope: string): string {
  if (scope === "") return "%";
  if (!NEEDS_ENCODING.test(scope)) return scope;
  return scope.replaceAll("%", "%25").replaceAll("{", "%7B").replaceAll("}", "%7D");
}

/** Redis refuses EX 0 and fractions with a reply error; refuse them first, as a caller bug, not an outage. */
function checkTtl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`redisStore: ttlSeconds must be a whole number of seconds >= 1, got ${ttlSeconds}`);
  }
  return ttlSeconds;
}

function checkTime(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`redisStore: a time must be a whole number of milliseconds >= 0, got ${ms}`);
  return ms;
}
