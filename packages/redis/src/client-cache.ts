import type { Redis } from "ioredis";

/** Options of `redisStore({ cache })`: Redis server-assisted client-side caching of the guard's read. */
export interface ClientCacheOptions {
  /**
   * A second connection to the same Redis that receives the invalidations, made with RESP2 and
   * without auto-resubscribe: `client.duplicate({ protocol: 2, autoResubscribe: false })` (ioredis 5
   * speaks RESP2 only: `{ autoResubscribe: false }`). Yours to connect and quit, like `client`.
   * While it (or `client`) is disconnected, the cache is off.
   */
  readonly subscriber: Redis;
  /** Entries kept per process (the oldest go first). @default 10000 */
  readonly maxEntries?: number;
  /** Longest one entry is served without asking Redis, in milliseconds. @default 30000 */
  readonly maxAgeMs?: number;
}

const CHANNEL = "__redis__:invalidate";
/** How often both connections must prove alive, and how long each has to answer. */
const HEARTBEAT_MS = 1000;

interface Entry {
  value: string | null;
  atMs: number;
}

/**
 * A per-process cache of the keys the guard reads (a step-up session record and the user's
 * revocation mark), kept coherent by Redis itself: the main connection runs `CLIENT TRACKING on
 * REDIRECT <subscriber> OPTIN`, each cached read is preceded by `CLIENT CACHING yes`, and Redis
 * sends the key on `__redis__:invalidate` to the subscriber as soon as anyone changes or expires
 * it. This process's own writes evict at once. The cache is off (every read goes to Redis) until
 * both connections are ready and tracking is on, and turns off again, emptied, the moment either
 * drops or misses its 1 s heartbeat: an invalidation lost with a connection is never served for
 * longer than that.
 */
export function createClientCache(client: Redis, options: ClientCacheOptions) {
  const { subscriber } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
    throw new TypeError("redisStore: `cache.maxEntries` must be a whole number >= 1");
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1)
    throw new TypeError("redisStore: `cache.maxAgeMs` must be a whole number of milliseconds >= 1");
  if (subscriber === null || typeof subscriber !== "object" || typeof subscriber.subscribe !== "function")
    throw new TypeError("redisStore: `cache.subscriber` must be an ioredis Redis connection");
  if (subscriber === client)
    throw new TypeError("redisStore: `cache.subscriber` must be a second connection");
  // ioredis 6 speaks RESP3 unless told (`protocol: 3` by default); ioredis 5 only RESP2 (no option).
  const protocol = (subscriber.options as { protocol?: number }).protocol;
  if ((protocol !== undefined && protocol !== 2) || subscriber.options.autoResubscribe !== false)
    throw new TypeError(
      "redisStore: `cache.subscriber` must be made with { protocol: 2, autoResubscribe: false }, e.g. client.duplicate({ protocol: 2, autoResubscribe: false })",
    );

  const entries = new Map<string, Entry>();
  let enabled = false;
  // Bumped by every invalidation and local write: a read that started before one never fills.
  let epoch = 0;
  // The subscriber's id on its current connection; the link generation (a stale link never enables).
  let subscriberId: string | undefined;
  let generation = 0;

  function off(): void {
    enabled = false;
    generation += 1;
    epoch += 1;
    entries.clear();
  }

  async function link(): Promise<void> {
    off();
    const mine = generation;
    try {
      if (subscriber.status !== "ready" || client.status !== "ready") return;
      if (subscriberId === undefined) {
        subscriberId = String(await subscriber.client("ID"));
        await subscriber.subscribe(CHANNEL);
      }
      await client.call("CLIENT", "TRACKING", "off");
      await client.call("CLIENT", "TRACKING", "on", "REDIRECT", subscriberId, "OPTIN");
      if (mine === generation) enabled = true;
    } catch {
      // Stays off; the next "ready" of either connection tries again.
      if (mine === generation) off();
    }
  }

  subscriber.on("messageBuffer", (channel: Buffer, message: Buffer[] | Buffer | null) => {
    if (channel.toString() !== CHANNEL) return;
    epoch += 1;
    // null: the whole database was flushed.
    if (message === null || !Array.isArray(message)) entries.clear();
    else for (const key of message) entries.delete(key.toString());
  });
  subscriber.on("ready", () => {
    subscriberId = undefined;
    void link();
  });
  client.on("ready", () => void link());
  for (const connection of [subscriber, client]) {
    connection.on("close", off);
    connection.on("reconnecting", off);
    connection.on("end", off);
  }
  // A connection can die without a close event (a half-open socket after a network partition):
  // Redis then drops the tracking or the invalidations silently. Both connections must answer a
  // PING every second within a second, or the cache turns off and the silent one reconnects.
  const heartbeat = setInterval(() => {
    if (!enabled) return;
    const mine = generation;
    for (const connection of [client, subscriber]) {
      const late = setTimeout(() => {
        if (mine !== generation) return;
        off();
        connection.disconnect(true);
      }, HEARTBEAT_MS);
      late.unref();
      connection.ping().then(
        () => clearTimeout(late),
        () => undefined, // the late timer decides
      );
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const stop = () => {
    if (subscriber.status === "end" || client.status === "end") clearInterval(heartbeat);
  };
  subscriber.on("end", stop);
  client.on("end", stop);
  void link();

  return {
    /** The cached values of all `ids`, or undefined when any is missing, stale, or the cache is off. */
    peek(ids: readonly string[]): (string | null)[] | undefined {
      if (!enabled) return undefined;
      const now = Date.now();
      const values: (string | null)[] = [];
      for (const id of ids) {
        const entry = entries.get(id);
        if (entry === undefined || now - entry.atMs > maxAgeMs) return undefined;
        values.push(entry.value);
      }
      return values;
    },

    /** Reads `ids` from Redis as a tracked read, filling the cache unless something changed meanwhile. */
    async read(ids: readonly string[]): Promise<(string | null)[]> {
      if (!enabled) return client.mget(...ids);
      const before = epoch;
      const replies = await client
        .pipeline()
        .client("CACHING", "YES")
        .mget(...ids)
        .exec();
      const [, mget] = replies ?? [];
      if (!mget || mget[0]) throw mget?.[0] ?? new Error("redisStore: no reply to a cached read");
      const values = mget[1] as (string | null)[];
      if (enabled && epoch === before) {
        const now = Date.now();
        ids.forEach((id, i) => {
          entries.delete(id);
          entries.set(id, { value: values[i] ?? null, atMs: now });
        });
        while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
      return values;
    },

    /** This process writes `ids`: forget them now (the invalidation for other processes comes from Redis). */
    evict(ids: readonly string[]): void {
      epoch += 1;
      for (const id of ids) entries.delete(id);
    },

    /** Whether reads are being served from the cache (both connections up, tracking on). */
    get enabled(): boolean {
      return enabled;
    },
    get size(): number {
      return entries.size;
    },
  };
}

export type ClientCache = ReturnType<typeof createClientCache>;
