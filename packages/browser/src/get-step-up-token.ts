import { type ApiResult, callApi, checkBasePath, errorCode } from "./api.js";
import { type OpenStepUpOptions, openStepUp, readFactors } from "./open-step-up.js";

/** Options of `getStepUpToken`: the rule, and how the dialog looks if one is needed. */
export type GetStepUpTokenOptions = Pick<
  OpenStepUpOptions,
  "resource" | "action" | "label" | "basePath" | "rememberDevice"
>;

/**
 * What `getStepUpToken` resolves with, in the manner of `openStepUp`: it never rejects for a failed
 * step-up. `error` is the server's code (`"not_found"` when tokens are off, `"step_up_blocked"`,
 * `"unauthenticated"`, ...), the dialog's (`"cancelled"`), or `"network_error"`.
 */
export type GetStepUpTokenResult =
  | { success: true; token: string; expiresAt: string }
  | { success: false; error: string };

/** The token in a successful answer; a malformed one is a failure, never an empty token. */
function tokenOf(result: ApiResult | undefined): GetStepUpTokenResult {
  if (!result) return { success: false, error: "network_error" };
  if (!result.ok) return { success: false, error: errorCode(result) };
  const { token, expiresAt } = result.body;
  if (typeof token !== "string" || token === "" || typeof expiresAt !== "string")
    return { success: false, error: "invalid_response" };
  return { success: true, token, expiresAt };
}

/** The challenge of a 401 `step_up_required`, as `openStepUp` takes it (untrusted JSON, checked). */
function challengeOf(body: Record<string, unknown>): OpenStepUpOptions["challenge"] | undefined {
  if (typeof body.challengeId !== "string") return undefined;
  return {
    challengeId: body.challengeId,
    factors: readFactors(body.factors),
    ...(typeof body.description === "string" ? { description: body.description } : {}),
    ...(typeof body.trustedDeviceDays === "number" ? { trustedDeviceDays: body.trustedDeviceDays } : {}),
  };
}

/**
 * A step-up token for `resource:action`, to send as `Authorization: Bearer` to the app's guarded
 * routes or to another service (which checks it against `{basePath}/.well-known/jwks.json`). Asks
 * `POST {basePath}/api/token`; when the step-up is not fresh, the server has opened a challenge:
 * the step-up dialog answers it, and the token is asked for once more. Keep the token in memory
 * only (never `localStorage`): it is a bearer credential until `expiresAt`.
 *
 * Resolves with `{ success: false, error }` rather than rejecting, as `openStepUp` does.
 *
 * @throws TypeError for missing `resource`/`action` or an off-origin `basePath` (before any request).
 * @example
 * const got = await getStepUpToken({ resource: "data", action: "export" });
 * if (got.success) await fetch("/api/export", { headers: { authorization: `Bearer ${got.token}` } });
 */
export async function getStepUpToken(options: GetStepUpTokenOptions): Promise<GetStepUpTokenResult> {
  if (typeof options?.resource !== "string" || typeof options.action !== "string")
    throw new TypeError("stepup: getStepUpToken needs { resource, action }");
  const { resource, action } = options;
  const basePath = checkBasePath(options.basePath ?? "/stepup");
  const ask = () => callApi(basePath, "api/token", { resource, action }).catch(() => undefined);
  const first = await ask();
  const challenge = first && first.status === 401 ? challengeOf(first.body) : undefined;
  if (first?.body.error !== "step_up_required" || !challenge) return tokenOf(first);
  const label = options.label ?? (typeof first.body.label === "string" ? first.body.label : undefined);
  const stepped = await openStepUp({
    resource,
    action,
    basePath,
    challenge,
    ...(label === undefined ? {} : { label }),
    ...(options.rememberDevice === undefined ? {} : { rememberDevice: options.rememberDevice }),
  });
  if (!stepped.success) return { success: false, error: stepped.payload[0].error ?? "cancelled" };
  // Once: a server that still says "step up" after a verified step-up is not asked again.
  return tokenOf(await ask());
}
