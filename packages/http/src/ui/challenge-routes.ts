import { StepUpError, type StepUpUser } from "@stepup/core";
import { sessionForChallenge } from "../api/session-of.js";
import { readForm } from "../body.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { renderResubmitPage } from "../pages/index.js";
import { checkOrigin, safeReturnTo } from "../security.js";
import {
  type ChallengePageState,
  cancelUrlFor,
  challengePageResponse,
  messagePage,
  newNonce,
  pageResponse,
} from "./page-response.js";

/** GET {basePath}/challenge/:id: the challenge page at its own URL. */
export async function showChallenge(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  id: string,
): Promise<Response> {
  const sid = await sessionForChallenge(http, request, user);
  const opened = await http.engine.challenges.show(user, sid, id);
  const cancelUrl = cancelUrlFor(http, request, opened.challenge);
  return challengePageResponse(http, opened, 200, new Headers(), { cancelUrl });
}

/** Errors the page shows on the form itself (the user can try again right there). */
const RETRY_ON_PAGE = new Set([
  "INVALID_CODE",
  "INVALID_INPUT",
  "TOO_MANY_ATTEMPTS",
  "USER_LOCKED",
  "FACTOR_NOT_FOUND",
  "FACTOR_NOT_ALLOWED",
]);

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
  const sid = await sessionForChallenge(http, request, user);
  const state = await http.engine.challenges.show(user, sid, id);
  http.csrf.verify(`${user.id}:${id}`, form.get("csrf"));
  const url = new URL(request.url);
  try {
    const input = {
      factor: form.get("factor") ?? undefined,
      factorId: form.get("factorId") ?? undefined,
      code: form.get("code") ?? undefined,
    };
    const result = await http.engine.challenges.verify(user, sid, id, input, ctx.ip);
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
    if (error.code === "CHALLENGE_EXHAUSTED") {
      // This request is spent; going back to where the user was opens a new one.
      const back = safeReturnTo(state.challenge.returnTo, url) ?? "/";
      return messagePage(
        http,
        429,
        "Too many wrong codes",
        "For your security this request has ended. Start again to get a new one.",
        new Headers(),
        { href: back, label: "Start again" },
      );
    }
    if (!RETRY_ON_PAGE.has(error.code)) throw error;
    const headers = new Headers();
    const { retryAfter, attemptsRemaining } = error.details;
    if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
    // Re-read what the challenge offers now (a lock may have left only the recovery path).
    const now = error.code === "USER_LOCKED" ? await http.engine.challenges.show(user, sid, id) : state;
    const page: ChallengePageState =
      error.code === "USER_LOCKED" && now.userLocked
        ? {} // the page's lock notice says it, with the way back in
        : error.code === "TOO_MANY_ATTEMPTS" && retryAfter !== undefined && retryAfter > 0
          ? { retryAfter }
          : { error: error.message, ...(attemptsRemaining === undefined ? {} : { attemptsRemaining }) };
    const cancelUrl = cancelUrlFor(http, request, now.challenge, form.get("cancel"));
    return challengePageResponse(http, now, error.status, headers, { ...page, cancelUrl });
  }
}
