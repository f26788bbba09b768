import {
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from "@simplewebauthn/browser";
import { type ApiResult, callApi } from "./api.js";
import type { OfferedFactor } from "./types.js";

/** Whether this browser can run WebAuthn ceremonies at all (secure context, API present). */
export function supportsPasskeys(): boolean {
  return browserSupportsWebAuthn();
}

/** A WebAuthn ceremony that ended in the browser (user dismissed it, no matching key, timeout). */
export class CeremonyError extends Error {
  readonly code = "webauthn_cancelled";
  constructor(cause: unknown) {
    super("The passkey prompt was dismissed or failed.", { cause });
  }
}

function asCeremonyError(error: unknown): never {
  throw new CeremonyError(error);
}

/**
 * Step-up with a passkey or security key on an open challenge: start -> browser ceremony -> verify.
 * The server's start lists every credential of the user; the factor sent back with the assertion is
 * the one whose credential the browser picked (`factorIds[response.id]`). `rememberDevice: true`
 * asks the server to trust this browser for its policy's days ("Remember this device").
 *
 * @throws CeremonyError when the browser ceremony fails; HTTP failures come back as the ApiResult.
 */
export async function verifyWithPasskey(
  basePath: string,
  challengeId: string,
  factors: readonly OfferedFactor[],
  options: { rememberDevice?: boolean } = {},
): Promise<ApiResult> {
  const keys = factors.filter((f) => f.prompt.kind === "webauthn");
  const first = keys[0];
  if (!first) throw new TypeError("stepup: no passkey is enrolled for this challenge");
  const id = encodeURIComponent(challengeId);
  const started = await callApi(basePath, `api/challenges/${id}/start`, {
    factor: first.type,
    factorId: first.id,
  });
  if (!started.ok) return started;
  const optionsJSON = started.body.options as PublicKeyCredentialRequestOptionsJSON;
  const response = await startAuthentication({ optionsJSON }).catch(asCeremonyError);
  const map = (started.body.factorIds ?? {}) as Record<string, unknown>;
  const mapped = map[response.id];
  // Without a map (older servers), only an unambiguous single key can be named.
  const factorId = typeof mapped === "string" ? mapped : keys.length === 1 ? first.id : undefined;
  const factor = keys.find((k) => k.id === factorId)?.type ?? first.type;
  const remember = options.rememberDevice === true ? { rememberDevice: true } : {};
  return callApi(basePath, `api/challenges/${id}/verify`, { factor, factorId, response, ...remember });
}

/**
 * Registers a new passkey or security key for the signed-in user: options -> browser ceremony ->
 * confirm. Pass `fetchImpl` (e.g. `stepUpFetch`) to step up first when the account already has a factor.
 *
 * @throws CeremonyError when the browser ceremony fails; HTTP failures come back as the ApiResult.
 */
export async function registerPasskey(
  basePath: string,
  options: { name?: string; fetchImpl?: typeof fetch } = {},
): Promise<ApiResult> {
  const started = await callApi(basePath, "api/factors/webauthn", {}, options.fetchImpl);
  if (!started.ok) return started;
  const factorId = String(started.body.factorId ?? "");
  const optionsJSON = started.body.options as PublicKeyCredentialCreationOptionsJSON;
  const response = await startRegistration({ optionsJSON }).catch(asCeremonyError);
  return callApi(basePath, `api/factors/webauthn/${encodeURIComponent(factorId)}/confirm`, {
    response,
    ...(options.name ? { name: options.name } : {}),
  });
}
