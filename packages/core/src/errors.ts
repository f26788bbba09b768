/** Stable error codes. Tests and clients match these, never message text. */
export type StepUpErrorCode =
  | "INVALID_INPUT"
  | "INVALID_CODE"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "STEP_UP_REQUIRED"
  | "STEP_UP_BLOCKED"
  | "CHALLENGE_NOT_FOUND"
  | "CHALLENGE_SESSION_MISMATCH"
  | "FACTOR_NOT_FOUND"
  | "FACTOR_NOT_ALLOWED"
  | "ENROLLMENT_NOT_FOUND"
  | "TOO_MANY_ATTEMPTS"
  | "CHALLENGE_EXHAUSTED"
  | "USER_LOCKED"
  | "ORIGIN_MISMATCH"
  | "CSRF_FAILED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "DELIVERY_FAILED"
  | "ENROLLMENT_REQUIRED"
  | "STORE_UNAVAILABLE";

/** HTTP status for each code: the one table the HTTP layer uses. */
export const errorStatus: Readonly<Record<StepUpErrorCode, number>> = Object.freeze({
  INVALID_INPUT: 400,
  INVALID_CODE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  STEP_UP_REQUIRED: 401,
  STEP_UP_BLOCKED: 403,
  CHALLENGE_NOT_FOUND: 404,
  CHALLENGE_SESSION_MISMATCH: 403,
  FACTOR_NOT_FOUND: 404,
  FACTOR_NOT_ALLOWED: 400,
  ENROLLMENT_NOT_FOUND: 404,
  TOO_MANY_ATTEMPTS: 429,
  CHALLENGE_EXHAUSTED: 429,
  USER_LOCKED: 429,
  ORIGIN_MISMATCH: 403,
  CSRF_FAILED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DELIVERY_FAILED: 503,
  ENROLLMENT_REQUIRED: 403,
  STORE_UNAVAILABLE: 503,
});

/** Extra fields an error carries to the client (all safe to show). */
export interface StepUpErrorDetails {
  /** Seconds until another attempt can succeed (429). */
  retryAfter?: number;
  /** Guesses left on this challenge (INVALID_CODE). */
  attemptsRemaining?: number;
  /** Which input field was wrong (INVALID_INPUT). */
  field?: string;
}

/**
 * The one error class of stepup: a stable `code`, a message safe to show a user, optional
 * details, and the underlying library error as `cause` (logged server-side, never sent).
 *
 * @example
 * try { await engine.verify(...) } catch (e) { if (e instanceof StepUpError && e.code === "INVALID_CODE") ... }
 */
/** A global brand: bundlers can load two copies of this package (Next: the app's and an adapter's). */
const BRAND = Symbol.for("@stepup/core:StepUpError");

export class StepUpError extends Error {
  override readonly name = "StepUpError";
  readonly code: StepUpErrorCode;
  readonly details: StepUpErrorDetails;
  /** Set on every instance, so `instanceof` holds across copies of the package (see below). */
  readonly [BRAND] = true;

  /**
   * `error instanceof StepUpError` is true for a StepUpError from any copy of @stepup/core: a Next
   * build can bundle one copy into the app while an adapter loads another, and a plain prototype
   * check would then turn a 400 into a 500.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(
    code: StepUpErrorCode,
    message: string,
    details: StepUpErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return errorStatus[this.code];
  }
}

/** Wraps a store failure: the engine never lets one through as "absent" (fail closed). */
export function storeUnavailable(cause: unknown): StepUpError {
  return new StepUpError(
    "STORE_UNAVAILABLE",
    "The step-up service is temporarily unavailable.",
    {},
    { cause },
  );
}

/**
 * The consecutive-failure lock (429): only a recovery code or an administrator's unlock ends it.
 * `retryAfter` only when the recovery path itself waits out a window.
 */
export function userLocked(details: StepUpErrorDetails = {}): StepUpError {
  return new StepUpError(
    "USER_LOCKED",
    "Too many failed attempts: verification is locked. Use a recovery code or contact support.",
    details,
  );
}
