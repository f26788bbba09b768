import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, stepUpAlice, testEngine } from "../../test/helpers.js";

// The guard's hot path keeps a fresh answer per parsed session record and rule, and hands out the
// same frozen object while it stays true. These tests attack the keeping: each would pass an old
// answer where the record, the mark or the clock says otherwise.

/** Alice's step-up for a:b in session `sid`, the clock left where it was. */
const stepUp = (t: ReturnType<typeof testEngine>, sid: string) =>
  stepUpAlice(t, sid, { resource: "a", action: "b", advanceMs: 0 });

describe("the kept fresh answer (hot path)", () => {
  it("a revocation after a kept answer ends it at once: the answer is not reused under a new mark", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("a", "b", { maxAge: 900 });
    const sid = await stepUp(t, "s0");
    const first = await t.engine.sessions.check("alice", sid, rule);
    expect(first.fresh).toBe(true);
    expect(await t.engine.sessions.check("alice", sid, rule)).toBe(first); // kept
    t.clock.advance(1);
    await t.engine.revokeUser("alice");
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(false);
    expect((await t.engine.decide({ user: alice, sid, rule })).outcome).toBe("challenge");
  });

  it("expiry: a kept answer ends at its rule's maxAge like a computed one", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("a", "b", { maxAge: 60 });
    const sid = await stepUp(t, "s0");
    const kept = await t.engine.sessions.check("alice", sid, rule);
    t.clock.advance(60_000);
    expect(await t.engine.sessions.check("alice", sid, rule)).toBe(kept);
    t.clock.advance(1);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(false);
  });

  it("the clock going back is computed again: an assurance dated too far ahead does not count (no kept answer stands in)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("a", "b", { maxAge: 900 });
    const sid = await stepUp(t, "s0");
    t.clock.advance(10);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(true);
    // Back more than the 60 s skew allowed to another process's clock: the assurance is "from the future".
    t.clock.advance(-75_000);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(false);
  });

  it("a record with a future-dated assurance keeps no answer: the newer one counts as soon as it is within the skew", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("a", "b", { maxAge: 900 });
    const start = t.clock.now();
    const older = await stepUp(t, "s0");
    // Another process whose clock runs 200 s ahead records a second step-up in the same session.
    t.clock.advance(200_000);
    const sid = await stepUp(t, older);
    t.clock.set(start + 1_000);
    const now = await t.engine.sessions.check("alice", sid, rule);
    expect(now.fresh && now.verifiedAtMs).toBe(start);
    t.clock.set(start + 141_000); // the newer assurance is now within 60 s of our clock
    const later = await t.engine.sessions.check("alice", sid, rule);
    expect(later.fresh && later.verifiedAtMs).toBe(start + 200_000);
  });

  it("answers are shared, so they are frozen (a handler cannot change another request's), and per rule", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const ab = t.engine.declareRule("a", "b", { maxAge: 900, match: "session" });
    const cd = t.engine.declareRule("c", "d", { maxAge: 300, match: "session" });
    const sid = await stepUp(t, "s0");
    const one = await t.engine.decide({ user: alice, sid, rule: ab });
    const two = await t.engine.decide({ user: alice, sid, rule: ab });
    expect(two).toBe(one);
    expect(Object.isFrozen(one)).toBe(true);
    if (one.outcome !== "allow") throw new Error("expected allow");
    expect(() => (one.assurance.amr as string[]).push("hwk")).toThrow(TypeError);
    expect(() => Object.assign(one.assurance, { level: "phishing-resistant" })).toThrow(TypeError);
    const other = await t.engine.decide({ user: alice, sid, rule: cd });
    expect(other).not.toBe(one);
    expect(other.outcome === "allow" && other.expiresAtMs).toBe(t.clock.now() + 300_000);
  });

  it("a transaction answer is never kept: each check consumes its grant (single use holds)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("wire", "send", { maxAge: 300, match: "transaction" });
    const { challenge } = await t.engine.openChallenge(alice, "s0", rule, { txn: "d1" });
    const result = await t.engine.challenges.verify(alice, "s0", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    const sid = result.sid as string;
    const [a, b] = await Promise.all([
      t.engine.sessions.check("alice", sid, rule, "d1"),
      t.engine.sessions.check("alice", sid, rule, "d1"),
    ]);
    expect([a.fresh, b.fresh].sort()).toEqual([false, true]);
    expect((await t.engine.sessions.check("alice", sid, rule, "d1")).fresh).toBe(false);
  });
});
