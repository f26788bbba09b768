"use client";
import { openStepUp } from "@stepup/browser";
import { useCallback, useRef, useState } from "react";
import type { StepUpRequired } from "./action-result.js";

/** What `useStepUp`'s `run` resolves with when the step-up itself did not succeed. */
export interface StepUpClientFailure {
  ok: false;
  /** `"cancelled"` when the user closed the dialog; else the modal's error code. */
  error: "cancelled" | "step_up_failed";
  /** The modal's own error code (e.g. `"network_error"`), when not a cancel. */
  reason?: string;
}

/** What `useStepUp` returns. */
export interface UseStepUp<Args extends unknown[], Result> {
  /** Calls the action; steps up and retries once when it answers with `stepUpRequired`. */
  run: (...args: Args) => Promise<Result | StepUpClientFailure>;
  pending: boolean;
  /** The last settled result (undefined before the first run). */
  result: Result | StepUpClientFailure | undefined;
}

function stepUpRequiredOf(result: unknown): StepUpRequired | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const r = result as { ok?: unknown; stepUpRequired?: unknown };
  if (r.ok !== false || typeof r.stepUpRequired !== "object" || r.stepUpRequired === null) return undefined;
  const s = r.stepUpRequired as Partial<StepUpRequired>;
  return typeof s.challengeId === "string" && typeof s.resource === "string" && typeof s.action === "string"
    ? (s as StepUpRequired)
    : undefined;
}

/** The mount path from a challenge URL (`/stepup/challenge/<id>` -> `/stepup`). */
function basePathOf(required: StepUpRequired): string {
  const at = required.challengeUrl.lastIndexOf("/challenge/");
  return at > 0 && required.challengeUrl.startsWith("/") ? required.challengeUrl.slice(0, at) : "/stepup";
}

/**
 * Calls a Server Action (or any async function) guarded by `guardAction`: when it answers
 * `{ ok: false, stepUpRequired }`, opens the step-up dialog for that challenge and, once verified,
 * calls it again, once. Cancel resolves `{ ok: false, error: "cancelled" }`.
 *
 * @example
 * const { run, pending, result } = useStepUp(deleteAccount);
 * <button disabled={pending} onClick={() => run()}>Delete account</button>
 */
export function useStepUp<Args extends unknown[], Result>(
  action: (...args: Args) => Promise<Result>,
): UseStepUp<Args, Result> {
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<Result | StepUpClientFailure | undefined>(undefined);
  const actionRef = useRef(action);
  actionRef.current = action;

  const run = useCallback(async (...args: Args): Promise<Result | StepUpClientFailure> => {
    setPending(true);
    try {
      let outcome: Result | StepUpClientFailure = await actionRef.current(...args);
      const required = stepUpRequiredOf(outcome);
      if (required) {
        const stepped = await openStepUp({
          resource: required.resource,
          action: required.action,
          basePath: basePathOf(required),
          // The rule's words ("delete your account") and what is approved, shown as text.
          ...(required.label === undefined ? {} : { label: required.label }),
          challenge: {
            challengeId: required.challengeId,
            factors: required.factors,
            ...(required.description === undefined ? {} : { description: required.description }),
            // Offers "Remember this device for N days" (absent when trusted devices are off).
            ...(required.trustedDeviceDays === undefined
              ? {}
              : { trustedDeviceDays: required.trustedDeviceDays }),
          },
        });
        if (stepped.success) outcome = await actionRef.current(...args);
        else {
          const reason = stepped.payload[0].error ?? "unknown";
          outcome =
            reason === "cancelled"
              ? { ok: false, error: "cancelled" }
              : { ok: false, error: "step_up_failed", reason };
        }
      }
      setResult(outcome);
      return outcome;
    } finally {
      setPending(false);
    }
  }, []);

  return { run, pending, result };
}
