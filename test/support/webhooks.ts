import type { Redis } from "ioredis";
import { expect } from "vitest";

/**
 * The outbox's items in Redis with their due times (ms): the sorted set
 * `...{stepup:webhooks}:outbox:<endpoint>` of the one endpoint the tests configure.
 */
export async function outbox(client: Redis): Promise<{ id: string; dueMs: number }[]> {
  const keys = (await client.keys("*webhooks*")).filter((k) => /:outbox:[\w-]+$/.test(k));
  if (keys.length === 0) return [];
  expect(keys).toHaveLength(1);
  // RESP2 answers [member, score, ...]; RESP3, [[member, score], ...].
  const flat = ((await client.call("ZRANGE", keys[0] ?? "", "0", "-1", "WITHSCORES")) as unknown[]).flat();
  const items: { id: string; dueMs: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    items.push({ id: String(flat[i]), dueMs: Number(flat[i + 1]) });
  return items;
}

/**
 * Waits until the outbox holds `count` items and none is leased (each due within `withinMs`, the
 * longest retry delay, where a claimed item would be due only when its lease ends): a process
 * killed then is not in the middle of a delivery.
 */
export async function outboxSettled(client: Redis, count: number, withinMs: number, timeoutMs = 5_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const items = await outbox(client);
    if (items.length === count && items.every((i) => i.dueMs < Date.now() + withinMs)) return items;
    if (Date.now() > until)
      throw new Error(`outbox not settled in ${timeoutMs} ms: ${JSON.stringify(items.slice(0, 5))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until every event in the outbox has reached the receiver at least once and none is leased
 * (each due within `withinMs`): a process killed then is not in the middle of a delivery.
 */
export async function outboxAttempted(
  client: Redis,
  receiver: { received: readonly { id: string }[] },
  withinMs: number,
  timeoutMs = 5_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const items = await outbox(client);
    const seen = new Set(receiver.received.map((d) => d.id));
    const settled =
      items.length > 0 &&
      items.every((i) => seen.has(i.id.slice(i.id.indexOf(".") + 1)) && i.dueMs < Date.now() + withinMs);
    if (settled) return items;
    if (Date.now() > until)
      throw new Error(`outbox not settled in ${timeoutMs} ms: ${JSON.stringify(items.slice(0, 5))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
