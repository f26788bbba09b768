import { createHash } from "node:crypto";
import type { FactorRecord } from "../../types.js";
import type { FactorContext } from "../factor.js";

/** The factor type name, in API paths, rules and events. */
export const WEBAUTHN = "webauthn";

/**
 * What a WebAuthn factor record keeps in `data`: one record per credential. Public keys and
 * credential ids are not secrets, so nothing here is sealed.
 */
export interface WebAuthnCredentialData {
  /** base64url credential id, as the browser reports it in `response.id`. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  /** The last signature counter seen (0 for authenticators that keep none, e.g. most passkeys). */
  counter: number;
  transports: string[];
  /** base64url user handle the credential was registered with (checked against `userHandle`). */
  userHandle: string;
  aaguid?: string;
  backedUp?: boolean;
  deviceType?: string;
}

/** A credential together with the factor record that holds it. */
export interface StoredCredential extends WebAuthnCredentialData {
  factorId: string;
}

const isString = (v: unknown): v is string => typeof v === "string";

/** The credential in a factor record, or undefined when the record is not a usable WebAuthn one. */
export function credentialOf(factor: FactorRecord): StoredCredential | undefined {
  if (factor.type !== WEBAUTHN) return undefined;
  const d = factor.data;
  if (!isString(d.credentialId) || !isString(d.publicKey) || !isString(d.userHandle)) return undefined;
  if (typeof d.counter !== "number" || !Number.isInteger(d.counter) || d.counter < 0) return undefined;
  return {
    factorId: factor.id,
    credentialId: d.credentialId,
    publicKey: d.publicKey,
    counter: d.counter,
    transports: Array.isArray(d.transports) ? d.transports.filter(isString) : [],
    userHandle: d.userHandle,
    ...(isString(d.aaguid) ? { aaguid: d.aaguid } : {}),
    ...(typeof d.backedUp === "boolean" ? { backedUp: d.backedUp } : {}),
    ...(isString(d.deviceType) ? { deviceType: d.deviceType } : {}),
  };
}

/** Every WebAuthn credential of the signed-in user (the lookup is scoped to that user). */
export async function credentialsOf(ctx: FactorContext): Promise<StoredCredential[]> {
  return (await ctx.listFactors()).flatMap((f) => credentialOf(f) ?? []);
}

/**
 * The user handle (`user.id` of the registration options) for the signed-in user, base64url.
 *
 * Stable per user, so the server can check the `userHandle` an authenticator returns, and so a
 * discoverable credential on one authenticator is replaced, not duplicated, if ever re-created.
 * Not the raw user id: WebAuthn section 14.6.1 says the handle must not carry personal data (user
 * ids are often emails), and authenticators show it to anyone holding them. So it is
 * SHA-256(HMAC(secret, user id)): 32 bytes, opaque, derived without storing anything. The handle of
 * an existing credential wins, so rotating the stepup secret does not change a user's handle.
 */
export function userHandleFor(ctx: FactorContext, existing: readonly StoredCredential[]): string {
  const known = existing[0]?.userHandle;
  if (known) return known;
  const keyed = ctx.keyring.hash(`webauthn:user-handle:${ctx.user.id}`);
  return createHash("sha256").update(keyed).digest("base64url");
}

/** Compares two base64url values as the bytes they encode (encoders differ on padding). */
export function sameBytes(a: string, b: string): boolean {
  return Buffer.from(a, "base64url").equals(Buffer.from(b, "base64url"));
}
