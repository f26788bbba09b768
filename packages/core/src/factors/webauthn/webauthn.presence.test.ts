import { describe, expect, it } from "vitest";
import { alice, outcome } from "../../../test/helpers.js";
import {
  attempt,
  openChallenge,
  register,
  registrationOptions,
  softAuthenticator,
  startAssertion,
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
    expect(await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }))).toBe(
      "INVALID_CODE",
    );
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

  it('with user verification, a "required" rule is satisfied', async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { rule: { userVerification: "required" } })).toBe("ok");
  });
});
