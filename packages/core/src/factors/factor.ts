import type { Logger } from "../config.js";
import type { Keyring } from "../internal/crypto.js";
import type { Store } from "../store/store.js";
import type { AssuranceLevel, Challenge, FactorRecord, StepUpEvent, StepUpUser } from "../types.js";

/** What the engine hands a factor plugin: its tools, never the engine itself. */
export interface FactorContext {
  user: StepUpUser;
  /** The application name shown in authenticator apps and messages. */
  appName: string;
  store: Store;
  keyring: Keyring;
  nowMs: number;
  randomBytes(length: number): Uint8Array;
  /** The user's enrolled factors (e.g. to exclude known WebAuthn credentials). */
  listFactors(): Promise<FactorRecord[]>;
  /** Server-side log for library errors (never sent to clients). */
  logger: Logger;
  /** Emits an audit event for this user (e.g. a WebAuthn counter regression). */
  emit(event: Omit<StepUpEvent, "atMs" | "userId">): void;
}

/** The result of starting an enrollment: `pending` is kept server-side, `response` goes to the client. */
export interface EnrollmentStart {
  pending: Record<string, unknown>;
  response: Record<string, unknown>;
  /** Default display name for the factor. */
  name: string;
}

/** The data to keep once an enrollment is confirmed. */
export interface EnrollmentResult {
  data: Record<string, unknown>;
  name?: string;
}

/** The outcome of a verification attempt: a value, because a wrong code is not an exception. */
export type VerifyOutcome =
  | { ok: true; data?: Record<string, unknown> }
  | { ok: false; reason: "INVALID_CODE" | "REPLAYED" };

/**
 * A second factor. TOTP implements it; WebAuthn, email, SMS and recovery codes plug in the same way
 * without changes to the engine.
 */
export interface FactorPlugin {
  /** Stable type name, used in API paths and rules (`totp`). */
  readonly type: string;
  /** Level a verification with this factor reaches. */
  readonly level: AssuranceLevel;
  /** RFC 8176 authentication method references. */
  readonly amr: readonly string[];
  /** Validates and starts an enrollment. Throws `StepUpError("INVALID_INPUT")` for bad input. */
  enrollStart(ctx: FactorContext, factorId: string, input: unknown): Promise<EnrollmentStart>;
  /** Confirms a pending enrollment (e.g. the first code); `null` when the proof is wrong. */
  enrollConfirm(
    ctx: FactorContext,
    factorId: string,
    pending: Record<string, unknown>,
    input: unknown,
  ): Promise<EnrollmentResult | null>;
  /** Re-creates the client's view of a pending enrollment (after a mistyped first code). */
  enrollResume?(
    ctx: FactorContext,
    factorId: string,
    pending: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Optional work when the user picks this factor on a challenge (send a code, WebAuthn options). */
  challengeStart?(
    ctx: FactorContext,
    factor: FactorRecord,
    challenge: Challenge,
  ): Promise<Record<string, unknown>>;
  /** Rejects malformed input (`StepUpError("INVALID_INPUT")`) before it is counted as a guess. */
  checkInput?(input: unknown): void;
  /** Checks a proof for a challenge. Must itself make a proof single use (e.g. TOTP time steps). */
  verify(
    ctx: FactorContext,
    factor: FactorRecord,
    challenge: Challenge,
    input: unknown,
  ): Promise<VerifyOutcome>;
}
