import { createHash } from "node:crypto";
import type { EnrollmentResult, EnrollmentStart, FactorContext } from "../factor.js";
import { credentialsOf, sameBytes, userHandleFor, type WebAuthnCredentialData } from "./credential.js";
import { attestationObjectRefusal, credentialKeyUsable } from "./encoding.js";
import { isCrossOrigin, readClientData, readRegistrationResponse, readRegistrationStart } from "./input.js";
import { webauthnServer } from "./library.js";
import type { ResolvedWebAuthnOptions } from "./options.js";

/** Random bytes per WebAuthn challenge (section 13.4.3 asks for at least 16). */
export const CHALLENGE_BYTES = 32;

/** As long as the engine keeps a pending enrollment (10 minutes): the used-mark must outlive it. */
const PENDING_TTL_SECONDS = 600;

/** Marks the registration challenge of a pending enrollment as used (the plugin's keys, user scope). */
const registrationUsedKey = (factorId: string) => `registration:${factorId}`;

/** WebAuthn section 5.8.3: a credential id is at most 1023 bytes. */
const MAX_CREDENTIAL_ID_BYTES = 1023;

/**
 * Shared (cross-user) key of a credential id: which user registered it. Hashed, so the index has a
 * fixed key size and does not spell out credential ids.
 */
export const credentialIndexKey = (credentialId: string) =>
  `credential:${createHash("sha256").update(Buffer.from(credentialId, "base64url")).digest("base64url")}`;

/** What the engine keeps server-side between registration start and confirm. */
interface PendingRegistration {
  challenge: string;
  userHandle: string;
}

function readPending(pending: Record<string, unknown>): PendingRegistration | undefined {
  const { challenge, userHandle } = pending;
  return typeof challenge === "string" && typeof userHandle === "string"
    ? { challenge, userHandle }
    : undefined;
}

/**
 * The COSE algorithms offered and accepted: EdDSA (-8), ES256 (-7), RS256 (-257), which every
 * authenticator in use supports. Pinned, not the library's default: on a runtime with post-quantum
 * support it offers ML-DSA-44 first, whose 2,420-byte signatures neither fit the assertion's size
 * limit nor have a strict encoding check here, so such a key would register and never step up.
 */
export const SUPPORTED_ALGORITHMS: readonly number[] = Object.freeze([-8, -7, -257]);

/**
 * Registration options for the browser (`navigator.credentials.create`), excluding credentials the
 * user already has so one authenticator is not registered twice.
 * @throws StepUpError INVALID_INPUT for a malformed `name` or `authenticatorAttachment`
 */
export async function startRegistration(
  opts: ResolvedWebAuthnOptions,
  ctx: FactorContext,
  input: unknown,
): Promise<EnrollmentStart> {
  const { name, authenticatorAttachment } = readRegistrationStart(input);
  const existing = await credentialsOf(ctx);
  const userHandle = userHandleFor(ctx, existing);
  const userName = ctx.user.email ?? ctx.user.name ?? ctx.user.id;
  const options = await (await webauthnServer()).generateRegistrationOptions({
    rpName: opts.rpName ?? ctx.appName,
    rpID: opts.rpID,
    userName,
    userDisplayName: ctx.user.name ?? userName,
    userID: new Uint8Array(Buffer.from(userHandle, "base64url")),
    challenge: new Uint8Array(ctx.randomBytes(CHALLENGE_BYTES)),
    timeout: opts.timeoutMs,
    attestationType: "none",
    supportedAlgorithmIDs: [...SUPPORTED_ALGORITHMS],
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    // A fresh object per call: the library writes `requireResidentKey` into it.
    authenticatorSelection: {
      residentKey: "preferred",
      userVerification: "preferred",
      ...(authenticatorAttachment ? { authenticatorAttachment } : {}),
    },
  });
  const pending: PendingRegistration = { challenge: options.challenge, userHandle };
  return {
    pending: { ...pending },
    response: { options },
    name: name ?? (authenticatorAttachment === "platform" ? "Passkey" : "Security key"),
  };
}

/**
 * Verifies the attestation (`RegistrationResponseJSON`) against the pending challenge, which the
 * first attempt uses up. `null` when the proof is wrong: a used or bad challenge, origin or RP ID, a
 * framed ceremony, no user presence, bytes after the attestation object's one CBOR item, an
 * attestation statement that is not a map, a public key its assertions could never verify with
 * (not of its algorithm's type and curve, a part missing or of the wrong size, off the curve), or a
 * credential the user already has (re-registering a known credential is refused, so its counter and
 * name cannot be reset by registering it again). Library
 * errors are not passed on: their messages quote expected values and are not for clients.
 * @throws StepUpError INVALID_INPUT when the response is not shaped like a registration response
 */
export async function confirmRegistration(
  opts: ResolvedWebAuthnOptions,
  ctx: FactorContext,
  factorId: string,
  pendingRecord: Record<string, unknown>,
  input: unknown,
): Promise<EnrollmentResult | null> {
  const response = readRegistrationResponse(input);
  const pending = readPending(pendingRecord);
  if (!pending) return null;
  // The engine takes the pending enrollment only on success; the WebAuthn challenge in it is single
  // use from the first attempt on, success or failure (a failed attempt means: start again).
  const first = await ctx.store.setIfAbsent(registrationUsedKey(factorId), "1", PENDING_TTL_SECONDS);
  if (!first) return null;
  if (isCrossOrigin(readClientData(response.response.clientDataJSON, "response"))) return null;
  // One registration, one spelling: nothing after the attestation object, a statement that is a
  // map (see encoding.ts). Leftover bytes inside authData the library refuses itself.
  const refusal = await attestationObjectRefusal(
    Buffer.from(response.response.attestationObject, "base64url"),
  );
  if (refusal !== undefined) {
    ctx.logger.warn("webauthn: registration refused", { reason: refusal });
    return null;
  }

  let verification: Awaited<ReturnType<typeof import("@simplewebauthn/server").verifyRegistrationResponse>>;
  try {
    verification = await (await webauthnServer()).verifyRegistrationResponse({
      response,
      expectedChallenge: pending.challenge,
      expectedOrigin: [...opts.origins],
      expectedRPID: opts.rpID,
      requireUserPresence: true,
      // Only a key of an algorithm we offered (an authenticator picks from the offer; a crafted
      // response could carry any key the library knows).
      supportedAlgorithmIDs: [...SUPPORTED_ALGORITHMS],
      // UV is a property of each step-up (the rule's `userVerification`), checked at authentication.
      requireUserVerification: false,
    });
  } catch (error) {
    ctx.logger.warn("webauthn: registration refused", {
      reason: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
  const info = verification.registrationInfo;
  if (!verification.verified || !info) return null;
  const { credential } = info;
  // A key its assertions could never verify with registers a factor that locks its user out.
  if (!(await credentialKeyUsable(credential.publicKey))) {
    ctx.logger.warn("webauthn: registration refused", {
      reason: "credential public key is not a valid key of its algorithm",
    });
    return null;
  }
  // The library takes the id from authenticator data; the one the browser reports is what later
  // assertions carry, so both must agree.
  if (!sameBytes(credential.id, response.id)) return null;
  if (Buffer.from(credential.id, "base64url").byteLength > MAX_CREDENTIAL_ID_BYTES) return null;
  const known = await credentialsOf(ctx);
  if (known.some((c) => sameBytes(c.credentialId, credential.id))) return null;
  // Section 7.1 step 26: a credential id registered to any other user is refused. With attestation
  // "none" anyone can claim any id with their own key; one owner per id keeps lookups unambiguous.
  // The claim is atomic (of two users racing for one id, one wins) and lasts until the factor is
  // removed; a claim left by an enrollment that never completed still names this user, so it does
  // not block them.
  const index = credentialIndexKey(credential.id);
  if (!(await ctx.shared.setIfAbsent(index, ctx.user.id, null))) {
    if ((await ctx.shared.get(index)) !== ctx.user.id) return null;
  }

  const data: WebAuthnCredentialData = {
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString("base64url"),
    counter: credential.counter,
    transports: response.response.transports ?? [],
    userHandle: pending.userHandle,
    aaguid: info.aaguid,
    backedUp: info.credentialBackedUp,
    deviceType: info.credentialDeviceType,
  };
  return { data: { ...data } };
}
