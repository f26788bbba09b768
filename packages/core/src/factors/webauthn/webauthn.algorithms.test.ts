import { SettingsService } from "@simplewebauthn/server";
import { afterEach, describe, expect, it } from "vitest";
import { alice } from "../../../test/helpers.js";
import {
  openChallenge,
  register,
  registrationOptions,
  softAuthenticator,
  startAssertion,
  verifyAssertion,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";

// Lockout: a key stepup cannot check must never be registered. The library's default offer depends
// on the runtime: with post-quantum support it offers ML-DSA-44 first, whose 2,420-byte signatures
// the assertion's size limit refuses, so the user would register a key that never steps up. stepup
// offers and accepts EdDSA, ES256 and RS256 only, on every runtime.

const pqc = SettingsService as unknown as { _runtimeSupportsPQC?: boolean };
afterEach(() => {
  pqc._runtimeSupportsPQC = undefined; // measured again on next use
});

describe("webauthn: the algorithms offered and accepted are pinned", () => {
  it("a runtime with post-quantum support is still offered EdDSA, ES256 and RS256 only (no ML-DSA key that could never step up)", async () => {
    pqc._runtimeSupportsPQC = true;
    const { options } = await registrationOptions(webauthnEngine(), alice);
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-8, -7, -257]);
  });

  it("on that runtime, a crafted registration whose key claims ML-DSA-44 is refused (it would register and never step up)", async () => {
    pqc._runtimeSupportsPQC = true;
    const t = webauthnEngine();
    // "none" attestation signs nothing at registration: only the algorithm list stands in the way.
    await expect(register(t, alice, softAuthenticator({ claimAlg: -48 }))).rejects.toThrow();
    expect(await t.engine.hasFactors(alice.id)).toBe(false);
  });

  it("a registration carrying a key of an algorithm not offered (ES384) is refused", async () => {
    const t = webauthnEngine();
    await expect(register(t, alice, softAuthenticator({ curve: "P-384" }))).rejects.toThrow();
    expect(await t.engine.hasFactors(alice.id)).toBe(false);
  });

  it("an offered algorithm (ES256) registers and steps up (control)", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const factor = await register(t, alice, key);
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const result = await verifyAssertion(
      t,
      alice,
      "sid-1",
      challenge.id,
      key.authenticate(options),
      factor.id,
    );
    expect(result).toMatchObject({ sid: expect.any(String) });
  });
});
