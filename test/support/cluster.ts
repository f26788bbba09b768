import { once } from "node:events";
import type { RedisCluster } from "@stepup/testkit";
import { Cluster } from "ioredis";

/** A test's own client of a cluster (to read what the demos wrote), ready. */
export async function clusterClient(cluster: RedisCluster): Promise<Cluster> {
  const client = new Cluster([...cluster.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
  client.on("error", () => {});
  if (client.status !== "ready") await once(client, "ready");
  return client;
}

/** The demo's id for a user (its user directory is the hash `stepup:{demo-users}:users`). */
export async function demoUserId(client: Cluster, email: string): Promise<string> {
  const raw = await client.hget("stepup:{demo-users}:users", email.toLowerCase());
  if (raw === null) throw new Error(`no demo user ${email}`);
  return (JSON.parse(raw) as { id: string }).id;
}

/** Every key of one user's scope, on each master (SCAN), by the master's port. */
export async function userKeysByMaster(client: Cluster, userId: string): Promise<Map<number, string[]>> {
  const placed = new Map<number, string[]>();
  for (const node of client.nodes("master")) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `stepup:{${userId}}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    if (keys.length > 0) placed.set(Number(node.options.port), keys.sort());
  }
  return placed;
}
