/**
 * Stable codes of {@link StepUpTokenError}: match these, never the message text.
 *
 * - `TOKEN_INVALID`: not a step-up token of this issuer (malformed, `alg` other than ES256, another
 *   `typ`, a bad signature, an unknown `kid`, a missing or mistyped claim, not yet valid).
 * - `TOKEN_EXPIRED`: past its `exp` (beyond the clock tolerance).
 * - `WRONG_ISSUER` / `WRONG_AUDIENCE`: `iss` / `aud` is not the configured one.
 * - `WRONG_SCOPE`: `scope` is not `resource:action` (a token for another action).
 * - `WRONG_TRANSACTION`: `txn` is not the transaction this request carries.
 * - `TOO_OLD`: `auth_time` is older than `maxAge` seconds.
 * - `REPLAYED`: its `jti` was used before (with a `replay` cache).
 * - `REPLAY_UNAVAILABLE`: the replay cache failed (fail closed: the token is refused).
 * - `JWKS_UNAVAILABLE`: the key set could not be fetched in time (unreachable, slow, not 200, not JSON).
 */
export type StepUpTokenErrorCode =
  | "TOKEN_INVALID"
  | "TOKEN_EXPIRED"
  | "WRONG_ISSUER"
  | "WRONG_AUDIENCE"
  | "WRONG_SCOPE"
  | "WRONG_TRANSACTION"
  | "TOO_OLD"
  | "REPLAYED"
  | "REPLAY_UNAVAILABLE"
  | "JWKS_UNAVAILABLE";

/**
 * The HTTP status a service answers for each code: 401 when the client needs a new token (step up
 * again), 503 when the check itself could not run.
 *
 * @example
 * res.status(tokenErrorStatus[error.code]).json({ error: error.code }); // or error.status
 */
export const tokenErrorStatus: Readonly<Record<StepUpTokenErrorCode, 401 | 503>> = Object.freeze({
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  WRONG_ISSUER: 401,
  WRONG_AUDIENCE: 401,
  WRONG_SCOPE: 401,
  WRONG_TRANSACTION: 401,
  TOO_OLD: 401,
  REPLAYED: 401,
  REPLAY_UNAVAILABLE: 503,
  JWKS_UNAVAILABLE: 503,
});

/** A global brand: two copies of this package (a bundler's and a dependency's) still agree on `instanceof`. */
const BRAND = Symbol.for("@stepup/verify:StepUpTokenError");

/**
 * Why a step-up token was refused: a stable `code`, a message safe to log (never the token), and
 * the underlying jose error as `cause`.
 *
 * @example
 * try {
 *   await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof StepUpTokenError && error.code === "TOO_OLD") {
 *     // ask the user to step up again
 *   }
 * }
 */
export class StepUpTokenError extends Error {
  override readonly name = "StepUpTokenError";
  readonly code: StepUpTokenErrorCode;
  readonly [BRAND] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(code: StepUpTokenErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** The HTTP status for this error's code (401 or 503). */
  get status(): 401 | 503 {
    return tokenErrorStatus[this.code];
  }
}
