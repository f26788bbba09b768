// The store on a real Redis Cluster (three masters, no replicas): the whole contract suite, and each
// scope's keys found in its one slot on the master that serves it. A cross-slot call would fail
// here with CROSSSLOT, and a script touching an undeclared key of another node with an error.
import { once } from "node:events";
import type { Store } from "@stepup/core";
import { storeContract } from "@stepup/core/testing";
import { type RedisCluster, startRedisCluster } from "@stepup/testkit";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisStore } from "./redis-store.js";

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = new Cluster([...cluster.nodes], {
    enableOfflineQueue: false,
    maxRedirections: 6,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1_000 },
  });
  client.on("error", () => {});
  if (client.status !== "ready") await once(client, "ready");
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

storeContract("redisStore on a 3-master Redis Cluster", async () => ({ store: redisStore({ client }) }));

const uniquePrefix = (): string => `t${crypto.randomUUID().replaceAll("-", "")}`;

/** Writes keys of every kind in `scope` with every Store method that writes; the keys it made. */
async function fill(store: Store, scope: string): Promise<number> {
  await store.set(scope, "a", "v", 60);
  await store.setIfAbsent(scope, "b", "v", null);
  await store.advance(scope, "step", 7, 60);
  await store.increment(scope, "attempts", 60);
  await store.append(scope, "challenges", "c1", 5, 60);
  await store.appendAfter(scope, "audit", null, "e1", 5, 60);
  await store.hashSet(scope, "factors", "f", "v");
  await store.hashReplace(scope, "factors", "f", "w");
  await store.enqueue(scope, "outbox", "id", "v", 0); // two keys: the index and `outbox:items`
  await store.set(scope, "gone", "v", 60);
  expect(await store.take(scope, "gone")).toBe("v");
  return 9;
}

describe("redisStore on a real Redis Cluster", () => {
  it("the cluster refuses a cross-slot command (so the contract above proves every call is single-slot)", async () => {
    await expect(client.mget("stepup:{a}:x", "stepup:{b}:x")).rejects.toThrow(/CROSSSLOT/);
  });

  it("each scope's keys are all in one slot, on the master serving it, for scopes spread over every master", async () => {
    // User ids, the webhook outbox, a client-address and a plugin scope, hostile braces.
    const scopes = ["stepup:webhooks", "ip:203.0.113.0/24", "factor:webauthn", "victim}:x", "{victim}", ""];
    for (let i = 0; i < 12; i++) scopes.push(`user-${i}`);
    const scopesPerMaster = new Map<number, number>();
    for (const scope of scopes) {
      const what = `scope ${JSON.stringify(scope)}`;
      // A prefix of its own: every key under it belongs to this scope.
      const keyPrefix = uniquePrefix();
      const store = redisStore({ client, keyPrefix });
      const written = await fill(store, scope);

      const placed = await keysByMaster(keyPrefix);
      expect(placed.size, `${what}: keys on one master`).toBe(1);
      const [[port, keys] = [0, []]] = [...placed];
      expect(keys.length, `${what}: ${keys.join(" ")}`).toBe(written);
      const slots = new Set(await Promise.all(keys.map((key) => cluster.keySlot(key))));
      expect(slots.size, `${what}: one slot`).toBe(1);
      const [slot = -1] = slots;
      expect(await cluster.masterOf(slot), `${what}: on the master serving slot ${slot}`).toBe(port);
      scopesPerMaster.set(port, (scopesPerMaster.get(port) ?? 0) + 1);

      // Reads, the queue and delete work there too; delete takes the queue's values with it.
      expect(await store.getMany(scope, ["a", "b", "missing"])).toEqual(["v", "v", null]);
      expect(await store.list(scope, "challenges")).toEqual(["c1"]);
      expect(await store.hashGetAll(scope, "factors")).toEqual({ f: "w" });
      expect(await store.claim(scope, "outbox", Date.now(), 60_000, 5)).toEqual([{ id: "id", value: "v" }]);
      await store.settle(scope, "outbox", "id", { value: "v2", dueMs: 0 });
      expect(await store.claim(scope, "outbox", Date.now() + 120_000, 60_000, 5)).toEqual([
        { id: "id", value: "v2" },
      ]);
      expect(await store.hashDelete(scope, "factors", "f")).toBe(true);
      await store.delete(scope, ["a", "b", "step", "attempts", "challenges", "audit", "outbox"]);
      expect((await keysByMaster(keyPrefix)).size, `${what}: nothing left`).toBe(0);
    }
    expect(scopesPerMaster.size, "scopes on every master").toBe(3);
    for (const count of scopesPerMaster.values()) expect(count).toBeGreaterThanOrEqual(2);
  });
});

/** The keys under a prefix on each master (SCAN on every master), by the master's port. */
async function keysByMaster(keyPrefix: string): Promise<Map<number, string[]>> {
  const placed = new Map<number, string[]>();
  for (const node of client.nodes("master")) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `${keyPrefix}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    if (keys.length > 0) placed.set(Number(node.options.port), keys.sort());
  }
  return placed;
}
