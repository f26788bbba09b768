import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { describe, expect, it } from "vitest";
import { alice, outcome } from "../../../test/helpers.js";
import {
  attempt,
  register,
  registrationOptions,
  softAuthenticator,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";

// Attack: a registration whose attestation object was edited where nothing signs it ("none"
// attestation): the credential's COSE key, or the statement. The library checks only the key's
// algorithm number, so a key of another type or curve, with a part missing, cut, grown or off the
// curve registered, and then no assertion of it could verify: a factor that locks its user out
// (and, as a user's only one, the account). A statement that is not a map passed for "none"'s empty
// one. Each is refused, logged, and the real registration still goes through.

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url");

type CoseKey = Map<number | string, unknown>;
type Top = Map<string, unknown>;

/** The response with its attestation object decoded, changed by `edit`, encoded again. */
function edited(
  r: RegistrationResponseJSON,
  edit: (top: Top, key: CoseKey) => void,
): RegistrationResponseJSON {
  const top = isoCBOR.decodeFirst<Top>(new Uint8Array(unb64(r.response.attestationObject)));
  const authData = Buffer.from(top.get("authData") as Uint8Array);
  const end = 55 + authData.readUInt16BE(53);
  const key = isoCBOR.decodeFirst<CoseKey>(new Uint8Array(authData.subarray(end)));
  edit(top, key);
  top.set(
    "authData",
    new Uint8Array(Buffer.concat([authData.subarray(0, end), isoCBOR.encode(key as never)])),
  );
  return { ...r, response: { ...r.response, attestationObject: b64(isoCBOR.encode(top as never)) } };
}

const coordinate = (key: CoseKey, label: number) => Buffer.from(key.get(label) as Uint8Array);

const LOCKOUTS: [string, string, (top: Top, key: CoseKey) => void][] = [
  [
    "y one bit off: not on P-256",
    "key",
    (_, k) => k.set(-3, new Uint8Array(coordinate(k, -3).map((b, i) => (i === 31 ? b ^ 1 : b)))),
  ],
  [
    "x and y all zero",
    "key",
    (_, k) => {
      k.set(-2, new Uint8Array(32));
      k.set(-3, new Uint8Array(32));
    },
  ],
  ["x cut to 31 bytes", "key", (_, k) => k.set(-2, new Uint8Array(coordinate(k, -2).subarray(1)))],
  [
    "y grown to 33 bytes (a leading zero)",
    "key",
    (_, k) => k.set(-3, new Uint8Array(Buffer.concat([Buffer.alloc(1), coordinate(k, -3)]))),
  ],
  ["y as text", "key", (_, k) => k.set(-3, coordinate(k, -3).toString("hex"))],
  ["no y", "key", (_, k) => k.delete(-3)],
  ["no crv", "key", (_, k) => k.delete(-1)],
  ["no kty", "key", (_, k) => k.delete(1)],
  ["crv P-384 on an ES256 key", "key", (_, k) => k.set(-1, 2)],
  ["crv Ed25519 on an ES256 key", "key", (_, k) => k.set(-1, 6)],
  ["kty OKP on an ES256 key", "key", (_, k) => k.set(1, 1)],
  ["kty RSA on an ES256 key", "key", (_, k) => k.set(1, 3)],
  ["alg EdDSA on an EC2 key", "key", (_, k) => k.set(3, -8)],
  ["alg RS256 on an EC2 key", "key", (_, k) => k.set(3, -257)],
  ["attStmt an empty text", "statement", (t) => t.set("attStmt", "")],
  ["attStmt an empty array", "statement", (t) => t.set("attStmt", [])],
  ["attStmt an empty byte string", "statement", (t) => t.set("attStmt", new Uint8Array(0))],
  ["attStmt zero", "statement", (t) => t.set("attStmt", 0)],
];

const REASONS: Record<string, string> = {
  key: "credential public key is not a valid key of its algorithm",
  statement: "attStmt is not a map",
};

describe("webauthn: a registration whose key could never verify, or whose statement is no map, is refused", () => {
  it.each(LOCKOUTS)("%s: refused and logged", async (_, reason, edit) => {
    const warnings: { message: string; fields: unknown }[] = [];
    const t = webauthnEngine({
      logger: { warn: (message, fields) => void warnings.push({ message, fields }), error() {} },
    });
    const key = softAuthenticator();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = edited(key.register(options), edit);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
    expect(warnings).toContainEqual({
      message: "webauthn: registration refused",
      fields: { reason: REASONS[reason] },
    });
    expect(await t.engine.factors.list(alice.id)).toEqual([]);
  });

  it("the object decoded and encoded again, or with labels no verifier reads, registers and steps up", async () => {
    for (const edit of [
      () => {},
      (_: Top, k: CoseKey) => k.set(2, new Uint8Array(8)),
      (t: Top) => t.set("epAtt", false),
    ]) {
      const t = webauthnEngine();
      const key = softAuthenticator();
      const { factorId, options } = await registrationOptions(t, alice);
      const response = edited(key.register(options), edit);
      expect(
        await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
      ).toBe("ok");
      expect(await attempt(t, alice, key)).toBe("ok");
    }
  });

  it("a P-384 key claiming ES256 (its curve) is refused", async () => {
    const t = webauthnEngine();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = softAuthenticator({ curve: "P-384", claimAlg: -7 }).register(options);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
  });

  it("a real key registers and steps up", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key)).toBe("ok");
  });
});
