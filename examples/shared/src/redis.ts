import type { Store } from "@stepup/core";
import { redisStore } from "@stepup/redis";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import type { DemoRedisConfig } from "./redis-config.js";

export { type DemoRedisConfig, redisConfigFromEnv } from "./redis-config.js";

/**
 * One server: fail fast when it is down (one retry per command; stepup also gives every store call
 * a 2 s deadline and answers 503 `store_unavailable`).
 */
export const DEMO_REDIS_OPTIONS: RedisOptions = { maxRetriesPerRequest: 1 };

/**
 * A Redis Cluster: fail fast while a master is down, recover on their own once a replica has taken
 * over (no restart), and never read what a replica may not have received yet.
 * - `scaleReads: "master"`: every read goes to the slot's master. Replication is asynchronous: a
 *   replica can still hold a step-up that was just revoked, or a code that was just used.
 * - `enableOfflineQueue: false`: while the client has no usable connection a command fails at once
 *   (503) rather than waiting in a queue until stepup's 2 s deadline.
 * - `maxRedirections: 6` with `retryDelayOnFailover` / `retryDelayOnClusterDown` at 100 ms: a
 *   command retries (refreshing the slot map each time) for about 0.6 s, long enough for a MOVED
 *   after a failover, short enough to answer 503 well before stepup's 2 s deadline while the
 *   cluster elects a new master.
 * - `redisOptions`: one retry per command, a 1 s connect timeout (an unreachable host fails fast),
 *   and a 2 s command timeout so commands to a node that hangs do not pile up in memory.
 * - `clusterRetryStrategy`: when every node was lost, reconnect every 100 ms to 1 s, forever.
 * - `slotsRefreshInterval: 2000`: the slot map is also re-read every 2 s, not only after an error.
 */
export const DEMO_CLUSTER_OPTIONS: ClusterOptions = {
  scaleReads: "master",
  enableOfflineQueue: false,
  maxRedirections: 6,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  slotsRefreshInterval: 2_000,
  clusterRetryStrategy: (times) => Math.min(100 * times, 1_000),
  redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1_000, commandTimeout: 2_000 },
};

/** The demo's Redis: the client, a store over it, and whether it became ready at start-up. */
export interface DemoRedis {
  readonly client: Redis | Cluster;
  /**
   * `redisStore({ client })`. On a cluster, calls made before the client's first "ready" wait for
   * it (at most {@link READY_WAIT_MS}): with `enableOfflineQueue: false` they would fail at once.
   * One server needs no wait: its offline queue holds early calls.
   */
  readonly store: Store;
  /**
   * When the store may be used: at once for one server; for a cluster, `true` on its first
   * "ready", `false` if that did not come within {@link READY_WAIT_MS} (calls then fail fast, 503).
   */
  readonly ready: Promise<boolean>;
  /** How the start-up line names the store. */
  readonly label: string;
}

/** How long the first store calls wait for the client's first connection. */
export const READY_WAIT_MS = 10_000;

/** The demo's client for `config`, with the options above, and a store over it. */
export function demoRedis(config: DemoRedisConfig): DemoRedis {
  if (config.kind === "server") {
    const client = logErrors(new Redis(config.url, DEMO_REDIS_OPTIONS));
    return { client, store: redisStore({ client }), ready: Promise.resolve(true), label: "Redis store" };
  }
  const client = logErrors(
    new Cluster(
      config.nodes.map((node) => ({ ...node })),
      DEMO_CLUSTER_OPTIONS,
    ),
  );
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_WAIT_MS);
    timer.unref();
    client.once("ready", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  return {
    client,
    store: afterFirst(ready, redisStore({ client })),
    ready,
    label: `Redis Cluster store, ${config.nodes.length} startup nodes`,
  };
}

/** Logs the client's errors, one line each (without a listener ioredis reports each failed reconnection as unhandled). */
function logErrors<T extends Redis | Cluster>(client: T): T {
  client.on("error", (error: Error) => console.error("demo: redis error:", error.message));
  return client;
}

/** `store`, whose calls wait for `ready` to settle first; once it has, they go straight through. */
function afterFirst(ready: Promise<unknown>, store: Store): Store {
  let settled = false;
  void ready.then(() => {
    settled = true;
  });
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store) as [
    string,
    (...args: unknown[]) => Promise<unknown>,
  ][]) {
    wrapped[name] = (...args: unknown[]) => (settled ? method(...args) : ready.then(() => method(...args)));
  }
  return Object.freeze(wrapped) as unknown as Store;
}
