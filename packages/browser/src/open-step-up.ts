import { callApi, checkBasePath, errorCode } from "./api.js";
import { failure, runModal } from "./modal.js";
import { readFactors, readTrustedDeviceDays } from "./modal-factors.js";
import type { OfferedFactor, OpenStepUpResult } from "./types.js";

export { readFactors };

/** `{ trustedDeviceDays }` when `value` is a valid number of days (untrusted JSON), else nothing. */
const days = (value: unknown): { trustedDeviceDays?: number } => {
  const read = readTrustedDeviceDays(value);
  return read === undefined ? {} : { trustedDeviceDays: read };
};

/** Options of `openStepUp`. */
export interface OpenStepUpOptions {
  /** What is being unlocked, as in the server's rule (`"account"`). */
  resource: string;
  /** The action on it (`"delete"`). */
  action: string;
  /**
   * What the action is, in words that finish "You're about to …" (`"delete your account"`): the
   * rule's `label`. Without it the dialog uses the label the server gives, else "delete account".
   */
  label?: string;
  /**
   * Where stepup is mounted on this origin: an absolute path such as `/stepup` (never a URL or a
   * `//host` path). @default "/stepup"
   */
  basePath?: string;
  /**
   * A challenge the server already opened (the `challengeId` and `factors` of a `step_up_required`
   * problem). Reusing it keeps what the server bound to it, such as a transaction digest. Its
   * `trustedDeviceDays` (the problem's) offers "Remember this device for N days".
   */
  challenge?: {
    challengeId: string;
    factors: readonly OfferedFactor[];
    description?: string;
    trustedDeviceDays?: number;
  };
  /**
   * `false` hides "Remember this device for N days" (shown, unticked, when the server's challenge
   * has `trustedDeviceDays`, i.e. trusted devices are on). @default true
   */
  rememberDevice?: boolean;
}

/**
 * Steps the signed-in user up for `resource:action` in an accessible modal dialog: opens a challenge
 * (`POST {basePath}/api/challenges`), offers the user's factors as each declares itself (passkey,
 * typed code, code sent first, recovery code) and verifies through the JSON API. On success the
 * server has rotated the step-up cookie, so the next request for that action passes. When the server
 * has trusted devices on, the dialog offers "Remember this device for N days" (unticked; `rememberDevice:
 * false` hides it): ticked, every verification asks the server to trust this browser.
 *
 * A failed step-up never rejects: it resolves with `success: false` and an `error` code
 * (`"cancelled"` when the user pressed Escape or Cancel, `"unauthenticated"`, `"network_error"`, ...).
 *
 * @throws TypeError for missing `resource`/`action`, or a `basePath` that is not an absolute path on
 * this origin (checked before any request).
 * @example
 * const { success } = await openStepUp({ resource: "account", action: "delete" });
 * if (success) await fetch("/account/delete", { method: "POST" });
 */
export async function openStepUp(options: OpenStepUpOptions): Promise<OpenStepUpResult> {
  if (typeof options?.resource !== "string" || typeof options.action !== "string")
    throw new TypeError("stepup: openStepUp needs { resource, action }");
  const { resource, action } = options;
  const basePath = checkBasePath(options.basePath ?? "/stepup");
  let challenge = options.challenge;
  let label = typeof options.label === "string" && options.label ? options.label : undefined;
  if (!challenge) {
    const opened = await callApi(basePath, "api/challenges", { resource, action }).catch(() => undefined);
    if (!opened) return failure(action, "network_error");
    if (!opened.ok) return failure(action, errorCode(opened));
    challenge = {
      challengeId: String(opened.body.challengeId),
      factors: readFactors(opened.body.factors),
      ...days(opened.body.trustedDeviceDays),
    };
    if (label === undefined && typeof opened.body.label === "string") label = opened.body.label;
  }
  const { trustedDeviceDays, ...rest } = challenge;
  return runModal({
    basePath,
    resource,
    action,
    ...(label === undefined ? {} : { label }),
    ...rest,
    ...(options.rememberDevice === false ? {} : days(trustedDeviceDays)),
  });
}
