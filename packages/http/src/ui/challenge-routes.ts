import { StepUpError, type StepUpUser } from "@stepup/core";
import { sessionForChallenge } from "../api/session-of.js";
import { readForm } from "../body.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { renderResubmitPage } from "../pages/index.js";
import { checkOrigin, safeReturnTo } from "../security.js";
import { challengePageResponse, newNonce, pageResponse } from "./page-response.js";

async function opened(http: HttpContext, user: StepUpUser, request: Request, id: string) {
  const sid = await sessionForChallenge(http, request, user);
  const challenge = await http.engine.challenges.load(user.id, id);
  if (challenge.sid !== sid)
    throw new StepUpError("CHALLENGE_SESSION_MISMATCH", "This verification belongs to another session.");
  const factors = (await http.engine.challenges.enrolled(user.id)).filter((f) =>
    challenge.factors.includes(f.type),
  );
  return { challenge, factors };
}

/** GET {basePath}/challenge/:id: the challenge page at its own URL. */
export async function showChallenge(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  id: string,
): Promise<Response> {
  return challengePageResponse(http, user, await opened(http, user, request, id), 200);
}

/**
 * POST {basePath}/challenge/:id: the page's form (works without JavaScript). Success re-issues the
 * rotated cookie, then goes back: a GET by redirect, a form POST by re-submitting its fields.
 */
export async function submitChallenge(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  ctx: RequestContext,
  id: string,
): Promise<Response> {
  checkOrigin(request, http.trustedOrigins);
  const form = await readForm(request);
  const state = await opened(http, user, request, id);
  http.csrf.verify(`${user.id}:${id}`, form.get("csrf"));
  const url = new URL(request.url);
  try {
    const input = {
      factor: form.get("factor") ?? undefined,
      factorId: form.get("factorId") ?? undefined,
      code: form.get("code") ?? undefined,
    };
    const result = await http.engine.challenges.verify(user, state.challenge.sid, id, input, ctx.ip);
    const headers = new Headers({
      "set-cookie": await http.cookie.issue({ sid: result.sid, uid: user.id }, url),
    });
    const back = safeReturnTo(result.challenge.returnTo, url) ?? "/";
    if (result.challenge.method === "POST" && result.challenge.form) {
      const nonce = newNonce();
      const body = renderResubmitPage({
        appName: http.engine.config.appName,
        nonce,
        basePath: http.basePath,
        action: back,
        fields: result.challenge.form,
      });
      return pageResponse(body, 200, headers, nonce);
    }
    headers.set("location", back);
    headers.set("cache-control", "no-store");
    return new Response(null, { status: 303, headers });
  } catch (error) {
    if (!(error instanceof StepUpError)) throw error;
    if (
      error.code === "INVALID_CODE" ||
      error.code === "INVALID_INPUT" ||
      error.code === "TOO_MANY_ATTEMPTS" ||
      error.code === "FACTOR_NOT_FOUND" ||
      error.code === "FACTOR_NOT_ALLOWED"
    ) {
      const headers = new Headers();
      if (error.details.retryAfter !== undefined)
        headers.set("retry-after", String(error.details.retryAfter));
      const extra =
        error.details.attemptsRemaining === undefined
          ? {}
          : { attemptsRemaining: error.details.attemptsRemaining };
      return challengePageResponse(http, user, state, error.status, headers, {
        error: error.message,
        ...extra,
      });
    }
    throw error;
  }
}
