/**
 * Where stepup keeps its state. Every key lives in a `scope` (a user id, or `ip:<address>` for
 * per-client counters): a store keeps all keys of one scope together (Redis: the hash tag
 * `{<scope>}`), so a multi-key call on one scope is one round trip and stays valid on Redis Cluster.
 *
 * Rules every implementation must keep (the contract suite in `@stepup/core/testing` checks them):
 * - Each method is atomic on its own: two concurrent calls never both observe the state before
 *   the other (`take` hands a value to exactly one caller, `increment` never loses a count,
 *   `setIfAbsent` lets exactly one caller win).
 * - TTLs are whole seconds and start when the key is written. An expired key reads as absent.
 *   `ttlSeconds: null` means durable (factor records, a user's lock, the WebAuthn credential
 *   index); every other key has a TTL.
 * - A store that cannot answer (connection lost, timeout) rejects; it never answers "absent" for
 *   "unknown". stepup turns a rejection into 503 STORE_UNAVAILABLE: fail closed.
 * - Values are opaque strings (stepup writes JSON); a store never parses them.
 */
export interface Store {
  /**
   * Reads several keys of one scope in one round trip; `null` where absent or expired. With
   * `{ cache: true }` (only the guard's freshness read asks) a store that caches may remember the
   * values for `peek`.
   */
  getMany(scope: string, keys: readonly string[], options?: { cache?: boolean }): Promise<(string | null)[]>;
  /**
   * Optional, synchronous: the values of `keys` from a per-process cache the store keeps coherent
   * (Redis client-side caching), or undefined when any is not cached or the cache is off. Only the
   * guard's freshness read uses it; a store without a cache leaves it out.
   */
  peek?(scope: string, keys: readonly string[]): (string | null)[] | undefined;
  /** Writes a key, replacing any value and TTL. */
  set(scope: string, key: string, value: string, ttlSeconds: number | null): Promise<void>;
  /** Writes a key only when absent; `true` for the one caller that wrote it. */
  setIfAbsent(scope: string, key: string, value: string, ttlSeconds: number | null): Promise<boolean>;
  /**
   * Writes an integer only when it is greater than the stored one (or none is stored), and sets
   * the TTL; `true` when written. Of concurrent callers, the stored value only ever grows, and a
   * value is accepted at most once (TOTP: a time step older than or equal to the last one used is
   * refused).
   */
  advance(scope: string, key: string, value: number, ttlSeconds: number): Promise<boolean>;
  /** Reads and deletes a key at once: of concurrent callers, exactly one gets the value. */
  take(scope: string, key: string): Promise<string | null>;
  /**
   * Deletes a key only while it holds `expected`, atomically; `true` when deleted. Releases a claim
   * (`setIfAbsent`) without touching the next holder's: a release that arrives late (its claim
   * expired, another caller claimed the key since) deletes nothing.
   */
  deleteIfEquals(scope: string, key: string, expected: string): Promise<boolean>;
  /**
   * Adds one to a counter and returns the new count with the seconds left before it resets.
   * The TTL is set when the counter is created and not extended (a fixed window).
   */
  increment(scope: string, key: string, ttlSeconds: number): Promise<{ count: number; ttlSeconds: number }>;
  /**
   * Appends a value to a list and keeps only the newest `maxLength` values, at once; returns the
   * values it dropped, oldest first. The TTL is set again on every append (the list lives as long
   * as its newest value). Used for indexes that must stay bounded (a user's open challenges).
   */
  append(scope: string, key: string, value: string, maxLength: number, ttlSeconds: number): Promise<string[]>;
  /**
   * Appends to a list only if its last value is `expectedLast` (`null`: the list is empty or
   * absent), then keeps the newest `maxLength` and renews the TTL, atomically; otherwise changes
   * nothing and answers the actual last value. An append-only log whose entries name the one
   * before (the audit chain) grows this way without a lock: of concurrent appenders expecting the
   * same last value, exactly one lands, and the others retry after it.
   */
  appendAfter(
    scope: string,
    key: string,
    expectedLast: string | null,
    value: string,
    maxLength: number,
    ttlSeconds: number,
  ): Promise<{ appended: true } | { appended: false; last: string | null }>;
  /** The values of a list, oldest first; `[]` when absent. */
  list(scope: string, key: string): Promise<string[]>;
  /** Deletes keys of one scope, of any kind (absent keys are ignored). */
  delete(scope: string, keys: readonly string[]): Promise<void>;
  /** Sets one field of a durable hash (factor records). */
  hashSet(scope: string, key: string, field: string, value: string): Promise<void>;
  /**
   * Replaces one field of a hash only when it exists; `true` when written. Used for updates
   * (last use, rename) so that a concurrent removal is never undone.
   */
  hashReplace(scope: string, key: string, field: string, value: string): Promise<boolean>;
  /** Reads every field of a hash; `{}` when absent. */
  hashGetAll(scope: string, key: string): Promise<Record<string, string>>;
  /** Deletes one field of a hash; `true` when it existed. */
  hashDelete(scope: string, key: string, field: string): Promise<boolean>;
  /**
   * Adds an item to a durable queue (the webhook outbox), due at `dueMs`. An id already queued is
   * left as it is (a retried enqueue never duplicates an item).
   */
  enqueue(scope: string, key: string, id: string, value: string, dueMs: number): Promise<void>;
  /**
   * Hands out up to `max` items due at `nowMs` (earliest first), each to exactly one of concurrent
   * callers: a claimed item is not due again until `nowMs + leaseMs`, so a worker that dies with
   * it only delays it.
   */
  claim(scope: string, key: string, nowMs: number, leaseMs: number, max: number): Promise<QueueItem[]>;
  /** Settles a claimed item: removes it (`next` null) or gives it a new value and due time. */
  settle(
    scope: string,
    key: string,
    id: string,
    next: { value: string; dueMs: number } | null,
  ): Promise<void>;
}

/** An item of a durable queue, as `claim` hands it out. */
export interface QueueItem {
  id: string;
  value: string;
}
