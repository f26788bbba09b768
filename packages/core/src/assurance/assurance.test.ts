import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, interceptStore, testEngine } from "../../test/helpers.js";
import { recoveryCodes } from "../factors/recovery-codes.js";
import { totp } from "../factors/totp.js";
import { webauthn } from "../factors/webauthn.js";
import { memoryStore } from "../store/memory-store.js";

async function stepUp(
  t: ReturnType<typeof testEngine>,
  resource: string,
  action: string,
  sid = "s0",
  txn?: string,
) {
  const rule = t.engine.rules.lookup(resource, action);
  const { challenge } = await t.engine.openChallenge(alice, sid, rule, txn ? { txn } : {});
  const result = await t.engine.challenges.verify(alice, sid, challenge.id, {
    factor: "totp",
    code: await codeAt(t.clock.now()),
  });
  return result.sid;
}

describe("assurance freshness", () => {
  it("maxAge boundary: fresh at exactly maxAge, stale 1 ms later", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("account", "delete", { maxAge: 300 });
    const sid = await stepUp(t, "account", "delete");
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(true);
    t.clock.advance(300_000);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(true);
    t.clock.advance(1);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(false);
  });

  it("the session id rotates on success: the pre-step-up id carries no assurance (fixation)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    const sid = await stepUp(t, "a", "b", "old-sid");
    expect(sid).not.toBe("old-sid");
    expect((await t.engine.sessions.check("alice", "old-sid", rule)).fresh).toBe(false);
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(true);
  });

  it("match 'session' (sudo mode): any recent step-up counts; 'action': only one for that pair", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const sudo = t.engine.declareRule("admin", "read", { maxAge: 900, match: "session" });
    const strict = t.engine.declareRule("account", "delete", { maxAge: 300, match: "action" });
    const sid = await stepUp(t, "data", "export");
    expect((await t.engine.sessions.check("alice", sid, sudo)).fresh).toBe(true);
    expect((await t.engine.sessions.check("alice", sid, strict)).fresh).toBe(false);
  });

  it("match 'transaction': bound to the digest and consumed on first use", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("payment", "transfer", { match: "transaction" });
    const sid = await stepUp(t, "payment", "transfer", "s0", "digest-A");
    expect((await t.engine.sessions.check("alice", sid, rule, "digest-B")).fresh).toBe(false);
    const uses = await Promise.all(
      Array.from({ length: 10 }, () => t.engine.sessions.check("alice", sid, rule, "digest-A")),
    );
    expect(uses.filter((u) => u.fresh)).toHaveLength(1);
  });

  it("match 'transaction': an unused grant survives a later step-up (the sid rotates, the grant does not strand)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("payment", "transfer", { match: "transaction" });
    const first = await stepUp(t, "payment", "transfer", "s0", "digest-A");
    t.clock.advance(30_000);
    const second = await stepUp(t, "admin", "read", first);
    expect((await t.engine.sessions.check("alice", second, rule, "digest-A")).fresh).toBe(true);
    expect((await t.engine.sessions.check("alice", second, rule, "digest-A")).fresh).toBe(false);
  });

  it("a level the factor cannot reach is never satisfied (TOTP is not phishing-resistant)", async () => {
    const passkeys = webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] });
    const t = testEngine({ factors: [totp(), passkeys, recoveryCodes()] });
    await enrollAlice(t);
    const rule = t.engine.declareRule("wire", "send", { level: "phishing-resistant" });
    const opened = await t.engine.openChallenge(alice, "s", rule);
    expect(opened.challenge.factors).toEqual(["webauthn"]);
    expect(opened.factors).toEqual([]); // alice has no passkey: nothing to answer with
    const sid = await stepUp(t, "wire", "other");
    expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(false);
  });

  it("a rule demanding a level no configured factor reaches throws at start-up, naming the fix", () => {
    // Before: the route challenged for ever, offering nothing that could pass.
    const t = testEngine();
    expect(() => t.engine.declareRule("wire", "send", { level: "phishing-resistant" })).toThrow(
      /level.*phishing-resistant.*none of its factors reach it.*webauthn/,
    );
    expect(() => testEngine({ rules: { "wire:send": { level: "phishing-resistant" } } })).toThrow(
      /rules\["wire:send"\]\.level/,
    );
  });

  it("revokeUser ends every session's assurance at once; revokeSession ends one", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    const one = await stepUp(t, "a", "b", "laptop");
    t.clock.advance(30_000);
    const two = await stepUp(t, "a", "b", "phone");
    await t.engine.revokeSession("alice", one);
    expect((await t.engine.sessions.check("alice", one, rule)).fresh).toBe(false);
    expect((await t.engine.sessions.check("alice", two, rule)).fresh).toBe(true);
    await t.engine.revokeUser("alice");
    expect((await t.engine.sessions.check("alice", two, rule)).fresh).toBe(false);
    t.clock.advance(30_000);
    const three = await stepUp(t, "a", "b", "phone-again");
    expect((await t.engine.sessions.check("alice", three, rule)).fresh).toBe(true);
    expect(t.events.map((e) => e.type)).toEqual(expect.arrayContaining(["session.revoked", "user.revoked"]));
  });

  it("fail closed: a store that errors makes decide() throw STORE_UNAVAILABLE, never 'allow'", async () => {
    const inner = memoryStore();
    let broken = false;
    const flaky = interceptStore(inner, (_name, _args, call) =>
      broken ? Promise.reject(new Error("ECONNREFUSED")) : call(),
    );
    const t = testEngine({}, flaky);
    broken = true;
    await expect(
      t.engine.decide({ user: alice, sid: "s", rule: t.engine.rules.lookup("a", "b") }),
    ).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
  });

  it("emits events for enrollment, challenge, success and failure", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    await t.engine.challenges
      .verify(alice, "s", challenge.id, { factor: "totp", code: "000001" })
      .catch(() => {});
    await t.engine.challenges.verify(alice, "s", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    expect(t.events.map((e) => e.type)).toEqual([
      "factor.enrolled",
      "recovery.regenerated",
      "challenge.opened",
      "verification.failed",
      "verification.succeeded",
    ]);
  });
});
