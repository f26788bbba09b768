// Attack: two app processes on one Redis write a user's audit log at the same moment, hoping (or
// just happening) to fork its hash chain, which would make every later check report tampering; and
// an entry deleted straight in Redis by someone without the secret.
import { createStepUp, type StepUp, type Store, totp } from "@stepup/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { privateRedis } from "./support/redis.js";

let redis: Awaited<ReturnType<typeof privateRedis>>;
const SECRET = "audit-redis-test-secret-0123456789abcdef";

function engine(store: Store): StepUp {
  return createStepUp({
    store,
    secret: SECRET,
    appName: "Acme",
    factors: [totp()],
    logger: { warn() {}, error() {} },
  });
}

beforeAll(async () => {
  redis = await privateRedis();
});
afterAll(async () => {
  await redis?.close();
});
beforeEach(async () => {
  await redis.client.flushall();
});

describe("audit log on Redis, across processes", () => {
  it("events written by two processes at once form one unbroken chain", async () => {
    const [a, b] = [engine(redis.store), engine(redis.store)];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).revokeSession("u1", `sid-${i}`)));
    await vi.waitFor(async () => expect(await a.audit.list("u1", 100)).toHaveLength(40), { timeout: 10_000 });
    const seqs = (await b.audit.list("u1", 100)).map((e) => e.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await a.verifyAuditChain("u1")).toEqual({ ok: true, entries: 40 });
  });

  it("an entry removed in Redis is reported, by any process", async () => {
    const a = engine(redis.store);
    await Promise.all(Array.from({ length: 6 }, (_, i) => a.revokeSession("u2", `sid-${i}`)));
    await vi.waitFor(async () => expect(await a.audit.list("u2", 100)).toHaveLength(6), { timeout: 10_000 });
    const key = (await redis.client.keys("*u2*audit"))[0] ?? "";
    expect(key).not.toBe("");
    const third = await redis.client.lindex(key, 3);
    await redis.client.lrem(key, 1, third ?? "");
    const other = engine(redis.store);
    expect(await other.verifyAuditChain("u2")).toMatchObject({ ok: false, brokenAt: 3, reason: "missing" });
  });
});
