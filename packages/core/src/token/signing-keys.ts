import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

/** A public signing key as `/.well-known/jwks.json` publishes it (never a private part). */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

/** One ES256 key: the private key (signs, when first) and its public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** A P-256 private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or a JWK with `d`. */
export type SigningKeyInput = string | JsonWebKey;

/** RFC 7638 thumbprint of an EC public key: the key id, stable for the key and nothing else. */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

/**
 * Loads signing keys once, at start-up: each must be an EC P-256 private key (ES256 only, so no
 * algorithm confusion is possible), given as PKCS#8 PEM or a private JWK.
 * @throws TypeError naming `option` for anything else
 */
export function loadSigningKeys(option: string, inputs: readonly SigningKeyInput[]): SigningKey[] {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new TypeError(`stepup: option \`${option}\` must list at least one ES256 (P-256) private key`);
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    let privateKey: KeyObject;
    try {
      privateKey =
        typeof input === "string"
          ? createPrivateKey(input)
          : createPrivateKey({
              key: input as Parameters<typeof createPrivateKey>[0] & object,
              format: "jwk",
            } as never);
    } catch {
      throw new TypeError(
        `stepup: option \`${option}[${i}]\` must be a PKCS#8 PEM or a private JWK (EC P-256)`,
      );
    }
    const details = privateKey.asymmetricKeyDetails;
    if (privateKey.asymmetricKeyType !== "ec" || details?.namedCurve !== "prime256v1")
      throw new TypeError(`stepup: option \`${option}[${i}]\` must be an EC P-256 key (ES256)`);
    const publicKey = createPublicKey(privateKey);
    const exported = publicKey.export({ format: "jwk" }) as {
      crv: string;
      kty: string;
      x: string;
      y: string;
    };
    const kid = thumbprint(exported);
    if (seen.has(kid)) throw new TypeError(`stepup: option \`${option}\` lists the same key twice`);
    seen.add(kid);
    return {
      kid,
      privateKey,
      publicKey,
      jwk: { kty: "EC", crv: "P-256", x: exported.x, y: exported.y, kid, alg: "ES256", use: "sig" },
    };
  });
}

/**
 * A new ES256 signing key, as PKCS#8 PEM: for `tokens.keys` (keep it secret, apart from the cookie
 * secret). Rotation: put the new key first and keep the old one listed until its tokens expired.
 *
 * @example
 * console.log(generateSigningKey()); // -----BEGIN PRIVATE KEY----- ...
 */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}
