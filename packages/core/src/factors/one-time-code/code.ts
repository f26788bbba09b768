import { timingSafeEqual } from "node:crypto";
import type { Keyring } from "../../internal/crypto.js";

/** Digits of an email or SMS code. */
export const CODE_DIGITS = 6;

/**
 * The code for a seed: the first 48 bits of HMAC-SHA-256(key, binding + seed), mod 10^6 (bias
 * under 10^-8). The store keeps only the random seed, never the code or a hash an attacker could
 * search: without the secret, a copy of the store reveals nothing, and a resend can still send the
 * same code. The binding names the user, the challenge (or enrollment) and the factor, so a code
 * works only where it was sent.
 */
function codeOf(hashed: string): string {
  const digest = Buffer.from(hashed.slice(hashed.indexOf(".") + 1), "base64url");
  return String(digest.readUIntBE(0, 6) % 10 ** CODE_DIGITS).padStart(CODE_DIGITS, "0");
}

const input = (binding: string, seed: string) => `otp:${binding}:${seed}`;

/** The code for a new seed under the current key, and that key's id (kept to resend it). */
export function issueCode(keyring: Keyring, binding: string, seed: string): { code: string; keyId: string } {
  const hashed = keyring.hash(input(binding, seed));
  return { code: codeOf(hashed), keyId: hashed.slice(0, hashed.indexOf(".")) };
}

/** The same code again (a resend), or undefined when its key was retired since. */
export function reissueCode(
  keyring: Keyring,
  binding: string,
  seed: string,
  keyId: string,
): string | undefined {
  const hashed = keyring.hashAll(input(binding, seed)).find((h) => h.startsWith(`${keyId}.`));
  return hashed === undefined ? undefined : codeOf(hashed);
}

/** Whether a typed code is the seed's code, compared in constant time. */
export function codeMatches(
  keyring: Keyring,
  binding: string,
  seed: string,
  keyId: string,
  typed: string,
): boolean {
  const expected = reissueCode(keyring, binding, seed, keyId);
  if (expected === undefined || typed.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(typed), Buffer.from(expected));
}
