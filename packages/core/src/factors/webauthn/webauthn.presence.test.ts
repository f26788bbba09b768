import { describe, expect, it } from "vitest";
import { alice, enrollAlice, outcome } from "../../../test/helpers.js";
import {
  attempt,
  openChallenge,
  register,
  registrationOptions,
  softAuthenticator,
  startAssertion,
  verifyAssertion,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";

// Attack: malware drives a plugged-in security key without a touch (no user presence), or a
// stolen key is used without its PIN (no user verification) where the rule demands one.

describe("webauthn: user presence always, user verification when the rule asks", () => {
  it("an assertion without user presence is refused", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { tamper: { up: false } })).toBe("INVALID_CODE");
    expect(await attempt(t, alice, key, { tamper: { up: false, uv: true } })).toBe("INVALID_CODE");
  });

  it("a registration without user presence is refused", async () => {
    const t = webauthnEngine();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = softAuthenticator().register(options, { up: false });
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
  });

  it('without user verification: refused when the rule says "required", accepted when "preferred"', async () => {
    const t = webauthnEngine();
    const key = softAuthenticator({ userVerifying: false }); // a key without PIN or biometric
    await register(t, alice, key); // registration leaves UV to each rule
    const required = await openChallenge(t, alice, "sid-1", { userVerification: "required" });
    const { options } = await startAssertion(t, alice, "sid-1", required.id);
    expect(options.userVerification).toBe("required"); // the browser is told, the server still checks
    expect(await attempt(t, alice, key, { rule: { userVerification: "required" } })).toBe("INVALID_CODE");
    expect(await attempt(t, alice, key, { rule: { userVerification: "preferred" } })).toBe("ok");
  });

  it("a presence-only tap for one rule never satisfies a UV-required rule later (UV is kept with the assurance)", async () => {
    // Before: UV was checked only when verifying, so a `match: "session"` rule demanding UV was
    // met by any recent passkey step-up, even one where the key only saw a touch.
    const t = webauthnEngine();
    const key = softAuthenticator({ userVerifying: false });
    await register(t, alice, key);
    const sudo = t.engine.rules.declare("admin", "read", { level: "phishing-resistant" });
    const vault = t.engine.rules.declare("vault", "sudo-uv", {
      level: "phishing-resistant",
      userVerification: "required",
    });
    const { challenge } = await t.engine.openChallenge(alice, "sid-1", sudo);
    const { options, factorIds } = await startAssertion(t, alice, "sid-1", challenge.id);
    const response = key.authenticate(options);
    const { sid, assurance } = await verifyAssertion(
      t,
      alice,
      "sid-1",
      challenge.id,
      response,
      factorIds[response.id],
    );
    expect(assurance.userVerified).toBe(false);
    expect(await t.engine.decide({ user: alice, sid, rule: sudo })).toMatchObject({ outcome: "allow" });
    expect(await t.engine.decide({ user: alice, sid, rule: vault })).toMatchObject({ outcome: "challenge" });
  });

  it("a UV-required rule is offered only factors that can verify the user; a rule that cannot be met throws at start-up", async () => {
    const t = webauthnEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.declare("vault", "uv", { userVerification: "required" });
    expect(rule.factors).toEqual(["totp", "webauthn"]);
    const opened = await t.engine.openChallenge(alice, "s", rule);
    expect(opened.challenge.factors).toEqual(["webauthn"]);
    expect(() =>
      t.engine.rules.declare("vault", "uv-totp", { userVerification: "required", factors: ["totp"] }),
    ).toThrow(/userVerification/);
  });

  it('with user verification, a "required" rule is satisfied', async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { rule: { userVerification: "required" } })).toBe("ok");
  });
});
