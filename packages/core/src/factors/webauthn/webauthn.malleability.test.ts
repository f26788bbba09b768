import { createHash } from "node:crypto";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { alice, outcome } from "../../../test/helpers.js";
import {
  openChallenge,
  register,
  registrationOptions,
  retryWithNewStart,
  softAuthenticator,
  startAssertion,
  verifyAssertion,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";

// Attack: a valid response re-spelled. @simplewebauthn/server reads an ES256 signature's DER
// leniently (the SEQUENCE's length unchecked, bytes after it ignored) and decodes only the first
// CBOR item of an attestation object, so the same proof has many spellings that all verify: the
// server refuses every spelling but the one the authenticator wrote (no parser differential, no
// trailing data), and a refused assertion still burns its WebAuthn challenge.

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url");

/** The response with its signature bytes replaced by `bend(signature)`. */
function withSignature(
  r: AuthenticationResponseJSON,
  bend: (sig: Buffer) => Buffer,
): AuthenticationResponseJSON {
  return { ...r, response: { ...r.response, signature: b64(bend(unb64(r.response.signature))) } };
}

const RESPELLED: [string, (sig: Buffer) => Buffer][] = [
  ["the DER signature written twice", (sig) => Buffer.concat([sig, sig])],
  ["a byte appended to the signature", (sig) => Buffer.concat([sig, Buffer.from([0])])],
  [
    "the outer SEQUENCE length one shorter",
    (sig) => Buffer.concat([Buffer.from([0x30, (sig[1] ?? 0) - 1]), sig.subarray(2)]),
  ],
  // (The library refuses the two longer ones itself, reading past the end; the server's own refusal is logged.)
  [
    "the outer SEQUENCE length one longer",
    (sig) => Buffer.concat([Buffer.from([0x30, (sig[1] ?? 0) + 1]), sig.subarray(2)]),
  ],
  [
    "the outer SEQUENCE length one longer, a byte appended to cover it",
    (sig) => Buffer.concat([Buffer.from([0x30, (sig[1] ?? 0) + 1]), sig.subarray(2), Buffer.from([0])]),
  ],
];

async function setup() {
  const warnings: { message: string; fields: unknown }[] = [];
  const t = webauthnEngine({
    logger: { warn: (message, fields) => void warnings.push({ message, fields }), error() {} },
  });
  const key = softAuthenticator();
  const factor = await register(t, alice, key);
  return { t, key, factor, warnings };
}

describe("webauthn: a re-spelled signature does not prove (assertion malleability)", () => {
  it.each(RESPELLED)("%s: refused, logged without the bytes, and the challenge is burnt", async (_, bend) => {
    const { t, key, factor, warnings } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const real = key.authenticate(options);
    const respelled = withSignature(real, bend);
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, respelled, factor.id))).toBe(
      "INVALID_CODE",
    );
    expect(warnings).toContainEqual({
      message: "webauthn: assertion refused",
      fields: { reason: "signature is not canonically encoded" },
    });
    const logged = JSON.stringify(warnings);
    expect(logged).not.toContain(real.response.signature);
    expect(logged).not.toContain(respelled.response.signature);
    // The real assertion for the same WebAuthn challenge fails afterwards: the attempt took it.
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, real, factor.id))).toBe(
      "INVALID_CODE",
    );
    // A new start, the untouched assertion proves.
    expect(await retryWithNewStart(t, alice, "sid-1", challenge.id, key, factor.id)).toBe("ok");
  });

  it("the untouched assertion proves (the check does not refuse real signatures)", async () => {
    const { t, key, factor, warnings } = await setup();
    for (let i = 0; i < 20; i++) {
      const challenge = await openChallenge(t, alice, `sid-${i}`);
      const { options } = await startAssertion(t, alice, `sid-${i}`, challenge.id);
      const response = key.authenticate(options);
      expect(await outcome(verifyAssertion(t, alice, `sid-${i}`, challenge.id, response, factor.id))).toBe(
        "ok",
      );
    }
    expect(warnings).toEqual([]);
  });

  it("authenticator data with a byte appended (re-signed by the real key) is refused", async () => {
    const { t, key, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const real = key.authenticate(options);
    const authData = Buffer.concat([unb64(real.response.authenticatorData), Buffer.from([0])]);
    const clientDataHash = createHash("sha256").update(unb64(real.response.clientDataJSON)).digest();
    const response = {
      ...real,
      response: {
        ...real.response,
        authenticatorData: b64(authData),
        signature: b64(key.sign(Buffer.concat([authData, clientDataHash]))),
      },
    };
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, factor.id))).toBe(
      "INVALID_CODE",
    );
  });
});

describe("webauthn: a registration's attestation object with bytes after it does not register", () => {
  /** The response with its attestationObject bytes replaced by `bend(object)`. */
  function withObject(r: RegistrationResponseJSON, bend: (o: Buffer) => Buffer): RegistrationResponseJSON {
    return {
      ...r,
      response: { ...r.response, attestationObject: b64(bend(unb64(r.response.attestationObject))) },
    };
  }

  it.each([
    ["a byte appended", (o: Buffer) => Buffer.concat([o, Buffer.from([0])])],
    ["the object written twice", (o: Buffer) => Buffer.concat([o, o])],
  ])("%s: refused and logged", async (_, bend) => {
    const warnings: { message: string; fields: unknown }[] = [];
    const t = webauthnEngine({
      logger: { warn: (message, fields) => void warnings.push({ message, fields }), error() {} },
    });
    const key = softAuthenticator();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = withObject(key.register(options), bend);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
    expect(warnings).toContainEqual({
      message: "webauthn: registration refused",
      fields: { reason: "attestationObject is not exactly one CBOR item" },
    });
    expect(await t.engine.factors.list(alice.id)).toEqual([]);
  });

  it("the untouched attestation object registers", async () => {
    const t = webauthnEngine();
    expect(await register(t, alice, softAuthenticator())).toMatchObject({ type: "webauthn" });
  });
});
