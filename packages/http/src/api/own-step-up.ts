import { type NeedsStepUp, StepUpError, type StepUpUser } from "@stepup/core";
import { type GuardInput, runGuard } from "../guard/guard.js";
import { renderGuard } from "../guard/render-guard.js";
import type { HttpContext, RequestContext } from "../http-context.js";

/** Whether an engine answer is "step up first". */
export function needsStepUp(value: unknown): value is NeedsStepUp {
  return typeof value === "object" && value !== null && "stepUpRequired" in value;
}

/** The caller's step-up session id from the cookie (undefined when there is none of this user). */
export async function sessionIdOf(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
): Promise<string | undefined> {
  const cookie = await http.cookie.read(request.headers.get("cookie"), http.engine.now(), request);
  return cookie && cookie.uid === user.id ? cookie.sid : undefined;
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
  // Twice at most: a session that turned fresh between the engine's check and the guard's (another
  // tab stepped up) gets the operation; otherwise the answer is the guard's, with its challenge.
  for (let attempt = 0; ; attempt++) {
    const result = await operation(sid);
    if (!needsStepUp(result)) return result;
    const outcome = await runGuard(http, request, ctx, result.stepUpRequired, input);
    if (outcome.kind !== "pass" || attempt === 1) {
      return outcome.kind === "pass"
        ? renderGuard(http, request, {
            kind: "error",
            error: new StepUpError("STORE_UNAVAILABLE", "Try again."),
          })
        : renderGuard(http, request, outcome);
    }
  }
}
