import { type NeedsStepUp, StepUpError, type StepUpUser } from "@stepup/core";
import { type GuardInput, runGuard } from "../guard/guard.js";
import { renderGuard } from "../guard/render-guard.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { sessionIdOf } from "./session-of.js";

/** Whether an engine answer is "step up first". */
export function needsStepUp(value: unknown): value is NeedsStepUp {
  return typeof value === "object" && value !== null && "stepUpRequired" in value;
}

/**
 * Runs one of stepup's own sensitive operations. The engine decides whether it needs a fresh
 * step-up (the rule lives in core); when it does, the answer is the guard's for that rule: the
 * inline challenge page (re-submitting `input.form` after success) or a 401 with a challenge.
 */
export async function withOwnStepUp<T>(
  http: HttpContext,
  request: Request,
  ctx: RequestContext & { user: StepUpUser },
  operation: (sid: string | undefined) => Promise<T | NeedsStepUp>,
  input?: GuardInput,
): Promise<T | Response> {
  const sid = await sessionIdOf(http, request, ctx.user);
  // A pass from the guard after the engine said "not fresh" means another tab stepped up in
  // between: try again. The engine enforces the step-up itself on every try; a store that keeps
  // answering both ways is failing, and the request fails closed.
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await operation(sid);
    if (!needsStepUp(result)) return result;
    const outcome = await runGuard(http, request, ctx, result.stepUpRequired, input);
    if (outcome.kind !== "pass") return renderGuard(http, request, outcome);
  }
  throw new StepUpError("STORE_UNAVAILABLE", "The step-up service is temporarily unavailable.");
}
