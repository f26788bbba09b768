import { once } from "node:events";
import { redisStore } from "@stepup/redis";
import { type RedisServer, startRedisServer } from "@stepup/testkit";
import { Redis, type RedisOptions } from "ioredis";

/** Fails fast while Redis is down (no offline queue, one retry) and reconnects every 100 ms. */
export const FAST_FAIL: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: () => 100,
  connectTimeout: 1_000,
};

/** Resolves once the client is ready (connected and past its ready check), or throws after `ms`. */
export async function waitReady(client: Redis, ms: number): Promise<void> {
  if (client.status === "ready") return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    once(client, "ready"),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis client not ready within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A private redis-server plus a client and a store over it. */
export async function privateRedis(options: RedisOptions = FAST_FAIL) {
  const server: RedisServer = await startRedisServer();
  const client = new Redis(server.url, options);
  client.on("error", () => {}); // connection errors surface as rejected commands
  try {
    await waitReady(client, 10_000);
  } catch (error) {
    client.disconnect();
    await server.stop();
    throw error;
  }
  const store = redisStore({ client });
  return {
    server,
    client,
    store,
    async close(): Promise<void> {
      client.disconnect();
      await server.stop();
    },
  };
}
