import type { StepUpInfo } from "@stepup/http";

/** A factor a challenge offers (what the step-up modal lists). */
export interface StepUpRequiredFactor {
  id: string;
  type: string;
  name: string;
  primary: boolean;
}

/** What the client needs to step up and retry: the server already opened the challenge. */
export interface StepUpRequired {
  challengeId: string;
  challengeUrl: string;
  resource: string;
  action: string;
  /** Seconds a verification stays fresh for this rule. */
  maxAge: number;
  factors: StepUpRequiredFactor[];
  /** ISO time the challenge expires. */
  expiresAt: string;
  /** Present when the user has no factor yet: where to enroll one. */
  enrollUrl?: string;
}

/** Why a guarded Server Action did not run (besides needing a step-up). */
export type GuardActionError =
  /** The `Origin` header is missing or not this host (a cross-site form post or a forged call). */
  | "origin_mismatch"
  | "unauthenticated"
  | "step_up_blocked"
  | "too_many_attempts"
  | "store_unavailable"
  | "internal_error";

/**
 * What `guardAction` resolves with: serializable, so a Server Action can return the failure as is
 * and `useStepUp` on the client understands it.
 */
export type GuardActionResult =
  | { ok: true; stepUp: StepUpInfo }
  | { ok: false; stepUpRequired: StepUpRequired }
  | { ok: false; error: GuardActionError; retryAfter?: number };

/** A failed `GuardActionResult` (what a Server Action returns when it may not run). */
export type GuardActionFailure = Exclude<GuardActionResult, { ok: true }>;
