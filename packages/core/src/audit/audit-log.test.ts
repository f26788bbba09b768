// Threats: someone with write access to the store (not the secret) edits or deletes an audit entry
// to hide what happened; concurrent events fork the chain; the log keeps something it must not (a
// code); the log grows without bound.
import { describe, expect, it, vi } from "vitest";
import { alice, codeAt, enrollAlice, storeWith, testEngine } from "../../test/helpers.js";
import { keys } from "../internal/keys.js";
import { memoryStore } from "../store/memory-store.js";

type T = ReturnType<typeof testEngine>;

async function logged(t: T, count: number) {
  await vi.waitFor(async () =>
    expect((await t.engine.audit.list(alice.id, 500)).length).toBeGreaterThanOrEqual(count),
  );
  return t.engine.audit.list(alice.id, 500);
}

/** Rewrites the stored log through `edit` (what an attacker with store access can do). */
async function tamper(t: T, edit: (entries: string[]) => string[]) {
  const raw = await t.store.list(alice.id, keys.audit);
  await t.store.delete(alice.id, [keys.audit]);
  for (const e of edit(raw)) await t.store.append(alice.id, keys.audit, e, 1000, 3600);
}

const emitMany = (t: T, n: number) =>
  Promise.all(
    Array.from({ length: n }, (_, i) => t.engine.revokeSession(alice.id, `sid-${i}`).then(() => undefined)),
  );

describe("audit log", () => {
  it("records what happens to a user, in order, with a chain that verifies", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    const code = await codeAt(t.clock.now());
    await t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code }, "203.0.113.9");
    const entries = await logged(t, 4);
    const types = entries.map((e) => e.type).reverse();
    expect(types).toEqual(
      expect.arrayContaining(["factor.enrolled", "challenge.opened", "verification.succeeded"]),
    );
    expect(entries.find((e) => e.type === "verification.succeeded")).toMatchObject({
      ip: "203.0.113.9",
      factor: "totp",
      resource: "a",
      action: "b",
    });
    expect(await t.engine.verifyAuditChain(alice.id)).toEqual({ ok: true, entries: entries.length });
    // Never a code or secret in the log.
    const all = JSON.stringify(entries);
    expect(all).not.toContain(code);
    expect(all).not.toMatch(/secret/i);
  });

  it("an edited entry is detected", async () => {
    const t = testEngine();
    await enrollAlice(t);
    await logged(t, 2);
    await tamper(t, (raw) =>
      raw.map((e, i) => (i === 0 ? e.replace('"factor.enrolled"', '"factor.updated"') : e)),
    );
    expect(await t.engine.verifyAuditChain(alice.id)).toMatchObject({
      ok: false,
      brokenAt: 0,
      reason: "edited",
    });
  });

  it("a removed entry is detected", async () => {
    const t = testEngine();
    await emitMany(t, 5);
    await logged(t, 5);
    await tamper(t, (raw) => raw.filter((_, i) => i !== 2));
    expect(await t.engine.verifyAuditChain(alice.id)).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: "missing",
    });
  });

  it("concurrent events never fork the chain, from one process or from two on one store", async () => {
    const t = testEngine();
    const other = testEngine({}, t.store);
    await Promise.all([emitMany(t, 15), emitMany(other, 15)]);
    const entries = await logged(t, 30);
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(await t.engine.verifyAuditChain(alice.id)).toEqual({ ok: true, entries: 30 });
  });

  it("keeps the newest 200 entries, and the rest of the chain still verifies", async () => {
    const t = testEngine();
    for (let i = 0; i < 5; i++) await emitMany(t, 50);
    await vi.waitFor(async () => expect((await t.engine.audit.list(alice.id, 500))[0]?.seq).toBe(250), {
      timeout: 10_000,
    });
    const entries = await t.engine.audit.list(alice.id, 500);
    expect(entries).toHaveLength(200);
    expect(entries.at(-1)?.seq).toBe(51);
    expect(await t.engine.verifyAuditChain(alice.id)).toEqual({ ok: true, entries: 200 });
  });
});

describe("audit log: the per-process memory of each user's last entry is bounded", () => {
  it("1,000 users are remembered, the oldest out first: a user pushed out costs one extra round trip, not memory", async () => {
    const inner = memoryStore();
    const appends = new Map<string, number>();
    const counting = storeWith(inner, {
      appendAfter(scope, ...rest) {
        appends.set(scope, (appends.get(scope) ?? 0) + 1);
        return inner.appendAfter(scope, ...rest);
      },
    });
    const t = testEngine({}, counting);
    const track = async (uid: string) => {
      const before = appends.get(uid) ?? 0;
      await t.engine.track(uid, { tag: "app.action" });
      return (appends.get(uid) ?? 0) - before;
    };
    expect(await track("u0")).toBe(1);
    expect(await track("u0")).toBe(1); // its last entry is remembered: one compare-and-append
    for (let i = 1; i <= 1_000; i++) await track(`u${i}`);
    // Pushed out by 1,000 newer users: the append guesses an empty log, the store answers the
    // actual last entry, and the second try lands (the chain stays whole).
    expect(await track("u0")).toBe(2);
    expect(await track("u0")).toBe(1);
    expect(await t.engine.verifyAuditChain("u0")).toEqual({ ok: true, entries: 4 });
  });
});
