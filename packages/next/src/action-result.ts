import type { OfferedFactor } from "@stepup/core";
import type { StepUpInfo, StepUpRequiredBody } from "@stepup/http";

/** A factor a challenge offers (what the step-up modal lists). */
export type StepUpRequiredFactor = OfferedFactor;

/** What the client needs to step up and retry: the server already opened the challenge. */
export type StepUpRequired = StepUpRequiredBody;

/** Why a guarded Server Action did not run (besides needing a step-up). */
export type GuardActionError =
  /** The `Origin` header is missing or not this host (a cross-site form post or a forged call). */
  | "origin_mismatch"
  | "unauthenticated"
  | "step_up_blocked"
  /** The action's policy refuses users without a factor: set one up first (at `enrollUrl`). */
  | "enrollment_required"
  | "too_many_attempts"
  /** Locked after too many failed verifications: a recovery code or an administrator ends it. */
  | "user_locked"
  /** The action's transaction details were refused. */
  | "invalid_input"
  | "store_unavailable"
  | "internal_error";

/**
 * What `guardAction` resolves with: serializable, so a Server Action can return the failure as is
 * and `useStepUp` on the client understands it.
 */
export type GuardActionResult =
  | { ok: true; stepUp: StepUpInfo }
  | { ok: false; stepUpRequired: StepUpRequired }
  | { ok: false; error: GuardActionError; retryAfter?: number; enrollUrl?: string };

/** A failed `GuardActionResult` (what a Server Action returns when it may not run). */
export type GuardActionFailure = Exclude<GuardActionResult, { ok: true }>;
