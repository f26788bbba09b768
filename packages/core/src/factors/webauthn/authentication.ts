import type { Challenge, FactorRecord } from "../../types.js";
import type { FactorContext, VerifyOutcome } from "../factor.js";
import { credentialOf, credentialsOf, sameBytes, WEBAUTHN } from "./credential.js";
import { signatureWellFormed } from "./encoding.js";
import { isCrossOrigin, readAuthenticationResponse, readClientData } from "./input.js";
import { webauthnHelpers, webauthnServer } from "./library.js";
import type { ResolvedWebAuthnOptions } from "./options.js";
import { CHALLENGE_BYTES } from "./registration.js";

/** What is kept server-side for one step-up challenge between `start` and `verify`. */
interface IssuedAssertion {
  challenge: string;
  /** The allowCredentials sent to the browser: an assertion by any other credential is refused. */
  credentialIds: string[];
}

/** Store key of the WebAuthn challenge bound to a step-up challenge (the plugin's keys, user scope). */
export const assertionKey = (challengeId: string) => `assertion:${challengeId}`;

const REFUSED = { ok: false, reason: "INVALID_CODE" } as const satisfies VerifyOutcome;

function readIssued(raw: string | null): IssuedAssertion | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<IssuedAssertion>;
    return typeof v.challenge === "string" && Array.isArray(v.credentialIds)
      ? { challenge: v.challenge, credentialIds: v.credentialIds.filter((c) => typeof c === "string") }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Authentication options for the browser (`navigator.credentials.get`), listing every credential
 * of the user. The WebAuthn challenge is stored server-side, bound to this step-up challenge,
 * until it expires or the first verification attempt takes it; calling `start` again replaces it.
 *
 * `factorIds` maps each listed credential id to its factor id: the browser picks the credential,
 * and the client sends that factor's id with the response (see `verifyAssertion`).
 */
export async function startAssertion(
  opts: ResolvedWebAuthnOptions,
  ctx: FactorContext,
  factor: FactorRecord,
  challenge: Challenge,
): Promise<Record<string, unknown>> {
  const all = await credentialsOf(ctx);
  // The picked factor's credential first, then the user's others: the browser lets the user choose.
  const credentials = [
    ...all.filter((c) => c.factorId === factor.id),
    ...all.filter((c) => c.factorId !== factor.id),
  ];
  const remainingMs = challenge.expiresAtMs - ctx.nowMs;
  const options = await (await webauthnServer()).generateAuthenticationOptions({
    rpID: opts.rpID,
    challenge: new Uint8Array(ctx.randomBytes(CHALLENGE_BYTES)),
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports })),
    userVerification: challenge.userVerification,
    timeout: Math.max(1000, Math.min(opts.timeoutMs, remainingMs)),
  });
  const issued: IssuedAssertion = {
    challenge: options.challenge,
    credentialIds: credentials.map((c) => c.credentialId),
  };
  const ttlSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  await ctx.store.set(assertionKey(challenge.id), JSON.stringify(issued), ttlSeconds);
  return {
    options,
    factorIds: Object.fromEntries(credentials.map((c) => [c.credentialId, c.factorId])),
  };
}

/**
 * Checks an assertion (`AuthenticationResponseJSON`) for a step-up challenge. The server enforces,
 * not the library alone: the WebAuthn challenge is single use (taken before anything else, so a
 * failed attempt burns it too), the credential is the picked factor's and was offered in
 * allowCredentials, `userHandle` (when sent) is the user's, the ceremony was not framed, origin and
 * RP ID are exact, user presence always and user verification when the rule requires it, and the
 * signature counter never goes back (a regression suggests a cloned authenticator: refused and
 * reported as `webauthn.counter_regressed`). The signature must be canonically encoded (one spelling
 * per proof: see encoding.ts).
 */
export async function verifyAssertion(
  opts: ResolvedWebAuthnOptions,
  ctx: FactorContext,
  factor: FactorRecord,
  challenge: Challenge,
  input: unknown,
): Promise<VerifyOutcome> {
  const response = readAuthenticationResponse(input);
  // Single use, atomically (GETDEL on Redis): of two concurrent attempts, one sees the challenge.
  const issued = readIssued(await ctx.store.take(assertionKey(challenge.id)));
  if (!issued) return REFUSED;

  // The engine writes the outcome back onto `factor`, so the asserted credential must be exactly
  // the picked factor's: a different credential, even the user's own, would update the wrong record.
  const credential = credentialOf(factor);
  if (!credential || !sameBytes(credential.credentialId, response.id)) return REFUSED;
  if (!issued.credentialIds.some((id) => sameBytes(id, response.id))) return REFUSED;
  const { userHandle } = response.response;
  if (userHandle !== undefined && !sameBytes(userHandle, credential.userHandle)) return REFUSED;
  if (isCrossOrigin(readClientData(response.response.clientDataJSON, "response"))) return REFUSED;

  const { parseAuthenticatorData } = await webauthnHelpers();
  let flags: ReturnType<typeof parseAuthenticatorData>["flags"];
  try {
    flags = parseAuthenticatorData(
      new Uint8Array(Buffer.from(response.response.authenticatorData, "base64url")),
    ).flags;
  } catch {
    return REFUSED;
  }
  // Checked here too, not only by the library: presence is never optional for a step-up, and
  // verification follows the rule that opened this challenge.
  if (!flags.up) return REFUSED;
  const requireUserVerification = challenge.userVerification === "required";
  if (requireUserVerification && !flags.uv) return REFUSED;

  // The library reads signatures leniently (see encoding.ts): one spelling per proof is checked
  // here, after the challenge is taken, so a malformed attempt burns it too.
  const publicKey = new Uint8Array(Buffer.from(credential.publicKey, "base64url"));
  const signature = new Uint8Array(Buffer.from(response.response.signature, "base64url"));
  if (!(await signatureWellFormed(publicKey, signature))) {
    ctx.logger.warn("webauthn: assertion refused", { reason: "signature is not canonically encoded" });
    return REFUSED;
  }

  let verification: Awaited<ReturnType<typeof import("@simplewebauthn/server").verifyAuthenticationResponse>>;
  try {
    verification = await (await webauthnServer()).verifyAuthenticationResponse({
      response,
      expectedChallenge: issued.challenge,
      expectedOrigin: [...opts.origins],
      expectedRPID: opts.rpID,
      // Counter 0 turns off the library's own counter check (it throws, which would hide a
      // regression among other errors). The check below runs only once the signature is valid,
      // so a forged low counter cannot raise a false clone alarm.
      credential: {
        id: credential.credentialId,
        publicKey,
        counter: 0,
        transports: credential.transports,
      },
      requireUserVerification,
    });
  } catch (error) {
    // The library's reason stays in the server log; the client only learns "not valid".
    ctx.logger.warn("webauthn: assertion refused", {
      reason: error instanceof Error ? error.message : String(error),
    });
    return REFUSED;
  }
  if (!verification.verified) return REFUSED;

  const { newCounter, credentialBackedUp } = verification.authenticationInfo;
  // WebAuthn section 6.1.1: both zero means the authenticator keeps no counter; otherwise it must grow.
  if ((newCounter > 0 || credential.counter > 0) && newCounter <= credential.counter) {
    await ctx.emit({ type: "webauthn.counter_regressed", factor: WEBAUTHN, factorId: factor.id });
    return REFUSED;
  }
  return {
    ok: true,
    data: { ...factor.data, counter: newCounter, backedUp: credentialBackedUp },
    // Kept with the assurance: a later rule demanding UV must not be met by a presence-only tap.
    userVerified: flags.uv === true,
  };
}
