import { createPublicKey, type JsonWebKey } from "node:crypto";
import { webauthnCbor, webauthnHelpers } from "./library.js";

// Strict readers for bytes @simplewebauthn/server reads leniently. It takes a DER ECDSA signature's
// two INTEGERs whatever the SEQUENCE's length says and ignores bytes after them, and decodes only
// the first CBOR item of an attestation object: one valid proof then has many spellings that all
// verify (malleability, not forgery: the challenge is single use). A security review wants one
// spelling per proof, so no parser differential with another verifier and no trailing data.

/** Bytes of the field of each EC2 curve (COSE crv): P-256, P-384, P-521, secp256k1. */
const EC2_FIELD_BYTES = new Map([
  [1, 32],
  [2, 48],
  [3, 66],
  [8, 32],
]);

/** Signature length of each OKP curve (COSE crv): Ed25519, Ed448. */
const OKP_SIGNATURE_BYTES = new Map([
  [6, 64],
  [7, 114],
]);

/** COSE key labels (RFC 9052/9053): kty, crv for EC2/OKP, n for RSA (the same label as crv). */
const KTY = 1;
const CRV = -1;
const RSA_N = -1;

/** A COSE public key's labels and values, or undefined when it does not decode to a map. */
async function coseKeyOf(cosePublicKey: Uint8Array): Promise<Map<unknown, unknown> | undefined> {
  try {
    const decoded: unknown = (await webauthnHelpers()).decodeCredentialPublicKey(
      new Uint8Array(cosePublicKey),
    );
    return decoded instanceof Map ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `signature` is encoded exactly as the stored credential's algorithm says, and nothing
 * else: strict DER for EC2 keys, the fixed length for EdDSA, the modulus's length for RSA. Any other
 * key type, or a key that does not decode, is false. It does not verify the signature.
 */
export async function signatureWellFormed(
  cosePublicKey: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const key = await coseKeyOf(cosePublicKey);
  if (key === undefined) return false;
  const kty = key.get(KTY);
  if (kty === 2) {
    const field = EC2_FIELD_BYTES.get(key.get(CRV) as number);
    return field !== undefined && strictEcdsaDer(signature, field + 1);
  }
  if (kty === 1) return signature.length === OKP_SIGNATURE_BYTES.get(key.get(CRV) as number);
  if (kty === 3) {
    const n = key.get(RSA_N);
    if (!(n instanceof Uint8Array)) return false;
    const leadingZeros = n.findIndex((b) => b !== 0);
    return leadingZeros >= 0 && signature.length === n.length - leadingZeros;
  }
  return false;
}

/**
 * ECDSA-Sig-Value (RFC 3279) in DER: SEQUENCE { INTEGER r, INTEGER s } with minimal lengths,
 * positive minimal non-zero INTEGERs of at most `maxIntBytes`, and nothing after the SEQUENCE.
 * High-S signatures pass: authenticators produce them and WebAuthn does not ask for low S, so
 * refusing them would lock out real keys.
 */
function strictEcdsaDer(sig: Uint8Array, maxIntBytes: number): boolean {
  if (sig[0] !== 0x30) return false;
  let length = sig[1];
  let at = 2;
  if (length === 0x81) {
    // Long form only where short form cannot say it (P-521 signatures are over 127 bytes).
    length = sig[2];
    at = 3;
    if (length === undefined || length < 0x80) return false;
  } else if (length === undefined || length >= 0x80) return false;
  if (at + length !== sig.length) return false;
  for (let k = 0; k < 2; k++) {
    const size = sig[at + 1];
    if (sig[at] !== 0x02 || size === undefined || size === 0 || size > maxIntBytes) return false;
    const first = sig[at + 2];
    if (first === undefined || at + 2 + size > sig.length) return false;
    if (first & 0x80) return false; // negative
    // A leading zero only to keep the next byte's top bit from reading as a sign (which also
    // refuses zero itself: a lone 00).
    if (first === 0 && (size === 1 || !((sig[at + 3] ?? 0) & 0x80))) return false;
    at += 2 + size;
  }
  return at === sig.length;
}

/**
 * Why a registration's attestation object is refused before the library reads it, or undefined.
 * It must be exactly one CBOR data item (the library decodes the first and ignores what follows),
 * measured with the decoder the library uses, not by re-encoding: a valid but non-canonical item
 * (which an authenticator may send) would not re-encode to the same bytes. Its statement must be a
 * map (WebAuthn section 6.5): the library reads "none"'s statement as empty when it has no `size`,
 * so an empty text, array or byte string, or a number, would pass for the empty map.
 */
export async function attestationObjectRefusal(bytes: Uint8Array): Promise<string | undefined> {
  // A copy: tiny-cbor reads a Uint8Array's whole buffer from 0 (byteOffset ignored), and a Buffer
  // from base64 is often a slice of Node's shared pool.
  const own = new Uint8Array(bytes);
  let decoded: unknown;
  let length: number;
  try {
    [decoded, length] = (await webauthnCbor()).decodePartialCBOR(own, 0);
  } catch {
    return "attestationObject is not exactly one CBOR item";
  }
  if (length !== own.length) return "attestationObject is not exactly one CBOR item";
  if (!(decoded instanceof Map && decoded.get("attStmt") instanceof Map)) return "attStmt is not a map";
  return undefined;
}

/** COSE key labels of the algorithm and the key's parts (RFC 9053): EC2 x, y; OKP x; RSA n, e. */
const ALG = 3;
const EC2_X = -2;
const EC2_Y = -3;
const OKP_X = -2;
const RSA_E = -2;

const bytesOf = (v: unknown, length?: number): string | undefined =>
  v instanceof Uint8Array && v.length > 0 && (length === undefined || v.length === length)
    ? Buffer.from(v).toString("base64url")
    : undefined;

/**
 * Whether a registration's COSE public key is one its assertions can verify with: the algorithm
 * is one offered (SUPPORTED_ALGORITHMS) and the key is of the type and curve it requires, every
 * part present at its exact size and a valid key (an EC point on its curve). The library checks
 * only the algorithm's number, so a key claiming ES256 on another curve, with a coordinate cut,
 * off the curve or missing, or an EC2 key claiming EdDSA, would register and never step up (a
 * lockout). ES256 is P-256 with uncompressed coordinates of 32 bytes (WebAuthn section 5.8.5);
 * EdDSA here is Ed25519 (crv 6, x of 32 bytes); RS256 an RSA key (n, e).
 */
export async function credentialKeyUsable(cosePublicKey: Uint8Array): Promise<boolean> {
  const key = await coseKeyOf(cosePublicKey);
  if (key === undefined) return false;
  let jwk: JsonWebKey | undefined;
  const alg = key.get(ALG);
  const kty = key.get(KTY);
  if (alg === -7 && kty === 2 && key.get(CRV) === 1) {
    const x = bytesOf(key.get(EC2_X), 32);
    const y = bytesOf(key.get(EC2_Y), 32);
    if (x && y) jwk = { kty: "EC", crv: "P-256", x, y };
  } else if (alg === -8 && kty === 1 && key.get(CRV) === 6) {
    const x = bytesOf(key.get(OKP_X), 32);
    if (x) jwk = { kty: "OKP", crv: "Ed25519", x };
  } else if (alg === -257 && kty === 3) {
    const n = bytesOf(key.get(RSA_N));
    const e = bytesOf(key.get(RSA_E));
    if (n && e) jwk = { kty: "RSA", n, e };
  }
  if (!jwk) return false;
  try {
    // Node refuses an EC point that is not on its curve, and a malformed RSA key.
    createPublicKey({ key: jwk, format: "jwk" });
    return true;
  } catch {
    return false;
  }
}
