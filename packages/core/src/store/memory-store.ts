import { type Clock, systemClock } from "../internal/clock.js";
import type { Store } from "./store.js";

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Time source for TTLs, so tests can move time instead of sleeping.
   * @default systemClock
   */
  readonly clock?: Clock;
}

interface StringEntry {
  value: string;
  /** `null` for a durable key. */
  expiresAtMs: number | null;
}

/** Expired keys are also swept in bulk on every this-many writes, so unread keys cannot pile up. */
const SWEEP_EVERY_WRITES = 1000;

/**
 * Creates a {@link Store} kept in a `Map` inside this process: for tests, the demo and
 * single-process deployments. State is lost on restart and is not shared between processes, so
 * use `redisStore` from `@stepup/redis` when more than one process serves requests.
 *
 * Every method is atomic because its body runs synchronously, with no `await`, between entry and
 * return: in one Node.js process nothing can interleave with it. Keys expire lazily by the injected
 * clock (an expired key reads as absent), and expired keys are swept every 1000 writes.
 *
 * @param options.clock - time source in milliseconds; `systemClock` by default.
 * @throws TypeError when `clock` has no `now()` method.
 * @example
 * ```ts
 * import { memoryStore } from "@stepup/core";
 *
 * const store = memoryStore();
 * await store.set("user-1", "challenge", JSON.stringify({ nonce: "abc" }), 300);
 * const value = await store.take("user-1", "challenge"); // the value, once; then null
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== "function") {
    throw new TypeError("memoryStore: `clock` must have a now() method returning milliseconds");
  }
  const strings = new Map<string, StringEntry>();
  const hashes = new Map<string, Map<string, string>>();
  const lists = new Map<string, { values: string[]; expiresAtMs: number }>();
  const queues = new Map<string, Map<string, { value: string; dueMs: number }>>();
  let writes = 0;

  const read = (id: string): StringEntry | undefined => {
    const entry = strings.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= clock.now()) {
      strings.delete(id);
      return undefined;
    }
    return entry;
  };

  /** Counts a write; every SWEEP_EVERY_WRITES writes, drops every expired key at once. */
  const tick = (): void => {
    writes += 1;
    if (writes % SWEEP_EVERY_WRITES !== 0) return;
    const now = clock.now();
    for (const [key, value] of strings) {
      if (value.expiresAtMs !== null && value.expiresAtMs <= now) strings.delete(key);
    }
    for (const [key, value] of lists) if (value.expiresAtMs <= now) lists.delete(key);
  };

  const write = (id: string, entry: StringEntry): void => {
    strings.set(id, entry);
    tick();
  };

  const expiresAt = (ttlSeconds: number | null): number | null =>
    ttlSeconds === null ? null : clock.now() + ttlSeconds * 1000;

  /**
   * Appends to a list (keeping the newest `maxLength`, renewing the TTL) and returns what it
   * dropped; with `expectedLast` (not undefined), only when the list's last value is that one.
   */
  const appendTo = (
    scope: string,
    key: string,
    value: string,
    maxLength: number,
    ttlSeconds: number,
    expectedLast: string | null | undefined,
  ): string[] | { last: string | null } => {
    assertTtl(ttlSeconds);
    if (!Number.isSafeInteger(maxLength) || maxLength < 1)
      throw new RangeError(`memoryStore: maxLength must be a whole number >= 1, got ${maxLength}`);
    const id = storeId(scope, key);
    const now = clock.now();
    const existing = lists.get(id);
    const values = existing && existing.expiresAtMs > now ? existing.values : [];
    const last = values.at(-1) ?? null;
    if (expectedLast !== undefined && last !== expectedLast) return { last };
    values.push(value);
    const dropped = values.length > maxLength ? values.splice(0, values.length - maxLength) : [];
    lists.set(id, { values, expiresAtMs: now + ttlSeconds * 1000 });
    tick();
    return dropped;
  };

  const store: Store = {
    async getMany(scope, keys) {
      return keys.map((key) => read(storeId(scope, key))?.value ?? null);
    },

    async set(scope, key, value, ttlSeconds) {
      if (ttlSeconds !== null) assertTtl(ttlSeconds);
      write(storeId(scope, key), { value, expiresAtMs: expiresAt(ttlSeconds) });
    },

    async setIfAbsent(scope, key, value, ttlSeconds) {
      if (ttlSeconds !== null) assertTtl(ttlSeconds);
      const id = storeId(scope, key);
      if (read(id) !== undefined) return false;
      write(id, { value, expiresAtMs: expiresAt(ttlSeconds) });
      return true;
    },

    async advance(scope, key, value, ttlSeconds) {
      assertTtl(ttlSeconds);
      if (!Number.isSafeInteger(value))
        throw new RangeError(`memoryStore: advance needs an integer, got ${value}`);
      const id = storeId(scope, key);
      const current = read(id);
      if (current !== undefined && Number(current.value) >= value) return false;
      write(id, { value: String(value), expiresAtMs: expiresAt(ttlSeconds) });
      return true;
    },

    async append(scope, key, value, maxLength, ttlSeconds) {
      return appendTo(scope, key, value, maxLength, ttlSeconds, undefined) as string[];
    },

    async appendAfter(scope, key, expectedLast, value, maxLength, ttlSeconds) {
      const result = appendTo(scope, key, value, maxLength, ttlSeconds, expectedLast);
      return Array.isArray(result) ? { appended: true } : { appended: false, last: result.last };
    },

    async list(scope, key) {
      const id = storeId(scope, key);
      const entry = lists.get(id);
      if (entry === undefined) return [];
      if (entry.expiresAtMs <= clock.now()) {
        lists.delete(id);
        return [];
      }
      return [...entry.values];
    },

    async take(scope, key) {
      const id = storeId(scope, key);
      const entry = read(id);
      if (entry === undefined) return null;
      strings.delete(id);
      return entry.value;
    },

    async deleteIfEquals(scope, key, expected) {
      const id = storeId(scope, key);
      if (read(id)?.value !== expected) return false;
      strings.delete(id);
      return true;
    },

    async increment(scope, key, ttlSeconds) {
      assertTtl(ttlSeconds);
      const id = storeId(scope, key);
      const entry = read(id);
      const previous = entry === undefined ? 0 : Number(entry.value);
      if (!Number.isSafeInteger(previous)) {
        // Same answer as Redis INCR on a non-counter: a bug in the caller, not "zero".
        throw new TypeError(`memoryStore: the value at "${key}" is not an integer counter`);
      }
      const count = previous + 1;
      // Fixed window: the TTL starts with the counter and a later call never extends it. A counter
      // written without a TTL (by `set`) gets one, so it cannot block a client for ever.
      const expiresAtMs = entry?.expiresAtMs ?? clock.now() + ttlSeconds * 1000;
      write(id, { value: String(count), expiresAtMs });
      const secondsLeft = Math.max(1, Math.ceil((expiresAtMs - clock.now()) / 1000));
      return { count, ttlSeconds: secondsLeft };
    },

    async delete(scope, keys) {
      for (const key of keys) {
        const id = storeId(scope, key);
        strings.delete(id);
        hashes.delete(id);
        lists.delete(id);
        queues.delete(id);
      }
    },

    async hashSet(scope, key, field, value) {
      const id = storeId(scope, key);
      const hash = hashes.get(id) ?? new Map<string, string>();
      hash.set(field, value);
      hashes.set(id, hash);
    },

    async hashReplace(scope, key, field, value) {
      const hash = hashes.get(storeId(scope, key));
      if (hash === undefined || !hash.has(field)) return false;
      hash.set(field, value);
      return true;
    },

    async hashGetAll(scope, key) {
      // fromEntries defines own properties, so a field named "__proto__" stays a plain field.
      return Object.fromEntries(hashes.get(storeId(scope, key)) ?? []);
    },

    async hashDelete(scope, key, field) {
      const id = storeId(scope, key);
      const hash = hashes.get(id);
      if (hash === undefined || !hash.delete(field)) return false;
      // Like Redis, a hash with no fields left does not exist.
      if (hash.size === 0) hashes.delete(id);
      return true;
    },

    async enqueue(scope, key, id, value, dueMs) {
      assertTime(dueMs);
      const qid = storeId(scope, key);
      const queue = queues.get(qid) ?? new Map<string, { value: string; dueMs: number }>();
      if (!queue.has(id)) queue.set(id, { value, dueMs });
      queues.set(qid, queue);
    },

    async claim(scope, key, nowMs, leaseMs, max) {
      assertTime(nowMs);
      assertTime(leaseMs);
      const queue = queues.get(storeId(scope, key));
      if (queue === undefined) return [];
      const due = [...queue].filter(([, item]) => item.dueMs <= nowMs);
      due.sort(([a, x], [b, y]) => x.dueMs - y.dueMs || (a < b ? -1 : 1));
      return due.slice(0, Math.max(0, max)).map(([id, item]) => {
        item.dueMs = nowMs + leaseMs;
        return { id, value: item.value };
      });
    },

    async settle(scope, key, id, next) {
      const qid = storeId(scope, key);
      const queue = queues.get(qid);
      if (queue === undefined || !queue.has(id)) return;
      if (next === null) {
        queue.delete(id);
        if (queue.size === 0) queues.delete(qid);
        return;
      }
      assertTime(next.dueMs);
      queue.set(id, { value: next.value, dueMs: next.dueMs });
    },
  };
  return Object.freeze(store);
}

/** The scope's length first makes the pair unambiguous whatever characters either part holds. */
function storeId(scope: string, key: string): string {
  return `${scope.length}:${scope}:${key}`;
}

/**
 * A TTL of 0, a negative or a fractional one is a caller bug; storing it would either keep the key
 * for ever or drop it at once, so refuse it (Redis refuses these too).
 */
function assertTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`memoryStore: ttlSeconds must be a whole number of seconds >= 1, got ${ttlSeconds}`);
  }
}

function assertTime(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`memoryStore: a time must be a whole number of milliseconds >= 0, got ${ms}`);
}
