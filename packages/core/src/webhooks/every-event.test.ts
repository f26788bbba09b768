// Threat: an event type that never reaches the audit log or the webhooks (a security team blind to
// it). Drives one engine through every event the engine emits and checks that each type is in the
// user's audit log and arrived at a real receiver, verified by the reference library.
import { startWebhookReceiver } from "@stepup/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { alice, codeAt, done, enrollAlice, fakeClock, testEngine, wrong } from "../../test/helpers.js";
import { attempt, register, softAuthenticator, webauthnEngine } from "../../test/soft-authenticator.js";
import { EVENT_TYPES, type StepUpEventType } from "../audit/events.js";
import { generateSigningKey } from "../token/signing-keys.js";
import { generateWebhookSecret } from "./signature.js";

/** Caused by a cloned security key: the second test below. */
const ELSEWHERE: StepUpEventType[] = ["webauthn.counter_regressed"];

const secret = generateWebhookSecret();
const receiver = await startWebhookReceiver([secret]);
afterAll(() => receiver.close());

describe("every event type reaches the audit log and a verified webhook", () => {
  it("drives each one and finds it in both places", async () => {
    const t = testEngine(
      {
        limits: { lockout: { maxFailures: 3, delayAfter: 3 } },
        policy: { decide: ({ rule }) => (rule.resource === "review" ? "REVIEW" : "CHALLENGE") },
        tokens: { issuer: "https://app.example", audience: "reports", keys: [generateSigningKey()] },
        webhooks: { endpoints: [{ url: receiver.url, secret }], worker: false },
      },
      undefined,
      fakeClock(Date.now()),
    );
    const { engine, clock } = t;
    const rule = (resource: string, action = "x") => engine.rules.lookup(resource, action);
    const verify = async (sid: string, input: Record<string, unknown>, r = rule("a")) => {
      const { challenge } = await engine.openChallenge(alice, sid, r);
      return engine.challenges.verify(alice, sid, challenge.id, input as never, { ip: "203.0.113.9" });
    };

    const { factorId, recoveryCodes: codes } = await enrollAlice(t); // factor.enrolled, recovery.regenerated
    await engine.factors.update(alice.id, factorId, { name: "Phone" }); // factor.updated
    await verify("s1", { factor: "totp", code: wrong(await codeAt(clock.now())) }).catch(() => undefined); // challenge.opened, verification.failed
    const ok = await verify("s1", { factor: "totp", code: await codeAt(clock.now()), rememberDevice: true }); // verification.succeeded, device.trusted
    clock.advance(30_000);
    await verify("s2", { factor: "recovery", code: codes[0] }); // recovery.used
    for (let i = 0; i < 3; i++)
      await verify("s3", { factor: "totp", code: wrong(await codeAt(clock.now())) }).catch(() => undefined); // lockout
    await engine.unlockUser(alice.id); // user.unlocked
    await engine.decide({ user: alice, sid: "s4", rule: rule("review") }); // policy.decision
    const begun = await engine.signIn.begin(alice);
    if (begun.outcome !== "challenge") throw new Error("expected a sign-in challenge");
    const signedIn = await engine.challenges.verify(alice, begun.sid, begun.opened.challenge.id, {
      factor: "totp",
      code: await codeAt(clock.now()),
    });
    clock.advance(30_000);
    expect(await engine.signIn.complete(alice.id, signedIn.sid, begun.signInId)).toBe(true); // signin.completed
    await engine.tokens.mint(alice, ok.sid, rule("a")); // token.issued
    await engine.track(alice.id, { tag: "payout.approved" }, { webhook: true }); // track
    done(await engine.factors.remove(alice, factorId, ok.sid)); // factor.removed
    await engine.revokeSession(alice.id, "s2"); // session.revoked
    await engine.revokeUser(alice.id); // user.revoked, device.revoked
    await engine.markCredentialChange(alice.id); // credential.changed
    await engine.admin.reset(alice.id, { by: "admin-1" }); // user.reset

    await engine.webhooks?.deliverDue();
    const expected = EVENT_TYPES.filter((type) => !ELSEWHERE.includes(type));
    const delivered = new Set(receiver.accepted().map((d) => d.payload.type));
    const logged = new Set((await engine.audit.list(alice.id, 200)).map((e) => e.type));
    for (const type of expected) {
      expect(delivered, `webhook for ${type}`).toContain(type);
      expect(logged, `audit entry for ${type}`).toContain(type);
    }
    expect(receiver.received.every((d) => d.verifiedWith.length === 1)).toBe(true);
    expect(await engine.verifyAuditChain(alice.id)).toMatchObject({ ok: true });
    await engine.close();
  });

  it("a cloned security key's counter regression reaches both places too", async () => {
    // The engine's clock is the real one: the receiver checks the webhook timestamp.
    const t = webauthnEngine({
      clock: { now: () => Date.now() },
      webhooks: { endpoints: [{ url: receiver.url, secret }], worker: false },
    });
    const key = softAuthenticator();
    const factor = await register(t, alice, key);
    expect(await attempt(t, alice, key)).toBe("ok");
    expect(await attempt(t, alice, key, { tamper: { signCount: 0 } })).toBe("INVALID_CODE");
    await t.engine.webhooks?.deliverDue();
    const delivered = receiver.accepted().filter((d) => d.payload.type === "webauthn.counter_regressed");
    expect(delivered.map((d) => d.payload.data)).toEqual([
      expect.objectContaining({ userId: alice.id, factorId: factor.id, severity: "critical" }),
    ]);
    const logged = (await t.engine.audit.list(alice.id, 200)).filter(
      (e) => e.type === "webauthn.counter_regressed",
    );
    expect(logged).toHaveLength(1);
    await t.engine.close();
  });
});
