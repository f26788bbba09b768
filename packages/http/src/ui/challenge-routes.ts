import { retryText } from "@stepup/browser/retry-text";
import { type CodeSent, type OpenedChallenge, StepUpError, type StepUpUser } from "@stepup/core";
import { sessionForChallenge } from "../api/session-of.js";
import { deviceSetCookie, verifyClient } from "../api/verify-client.js";
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
  // A send refused: too soon or too many (429, Retry-After when known), or the message bounced (503).
  "RATE_LIMITED",
  "DELIVERY_FAILED",
]);

/** What a send-first factor's start answered (`{ sent: true, destination, expiresAt, resendAfter }`), or undefined. */
function codeSentOf(started: Record<string, unknown>): CodeSent | undefined {
  const { sent, destination, expiresAt, resendAfter } = started;
  if (sent !== true || typeof destination !== "string") return undefined;
  const expiresAtMs = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
  const resendAfterMs = typeof resendAfter === "string" ? Date.parse(resendAfter) : Number.NaN;
  if (Number.isNaN(expiresAtMs)) return undefined;
  return {
    sent: true,
    destination,
    expiresAtMs,
    resendAfterMs: Number.isNaN(resendAfterMs) ? 0 : resendAfterMs,
  };
}

/**
 * `intent=send`: sends a send-first factor's code (the plugin's `challengeStart`), then shows the
 * page again with that factor's code form, a notice saying where the code went, and a resend form.
 */
async function sendCode(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  ctx: RequestContext,
  opened: OpenedChallenge & { sid: string },
  input: { factor: string | undefined; factorId: string | undefined; cancel: string | undefined },
): Promise<Response> {
  const { sid, ...shown } = opened;
  const { factor, factorId } = input;
  const started = await http.engine.challenges.start(
    user,
    sid,
    shown.challenge.id,
    { factor, factorId },
    ctx.ip,
  );
  const sent = codeSentOf(started);
  // Without the factor's id (a hand-made form), what the factor reports now tells the page.
  const now = sent && factorId ? shown : await http.engine.challenges.show(user, sid, shown.challenge.id);
  const expires = sent
    ? ` It expires in ${retryText(Math.max(1, (sent.expiresAtMs - Date.now()) / 1000))}.`
    : "";
  const cancelUrl = cancelUrlFor(http, request, now.challenge, input.cancel);
  return challengePageResponse(http, now, 200, new Headers(), {
    cancelUrl,
    notice: sent ? `We sent a code to ${sent.destination}.${expires}` : "We sent a code.",
    ...(sent && factorId ? { sent: { [factorId]: sent } } : {}),
  });
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
  const sid = await sessionForChallenge(http, request, user);
  const state = await http.engine.challenges.show(user, sid, id);
  http.csrf.verify(`${user.id}:${id}`, form.get("csrf"));
  const url = new URL(request.url);
  const factor = form.get("factor") ?? undefined;
  const factorId = form.get("factorId") ?? undefined;
  const sending = form.get("intent") === "send";
  // The checkbox "Remember this device" posts `rememberDevice=1`; anything else is not a yes.
  const remember = form.get("rememberDevice") === "1";
  try {
    if (sending) {
      const cancel = form.get("cancel") ?? undefined;
      return await sendCode(http, request, user, ctx, { ...state, sid }, { factor, factorId, cancel });
    }
    const input = { factor, factorId, code: form.get("code") ?? undefined, rememberDevice: remember };
    const result = await http.engine.challenges.verify(
      user,
      sid,
      id,
      input,
      verifyClient(http, request, ctx),
    );
    const headers = new Headers({
      "set-cookie": await http.cookie.issue({ sid: result.sid, uid: user.id }, url),
    });
    headers.append("set-cookie", deviceSetCookie(http, request, result.device));
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
          : error.code === "RATE_LIMITED" && retryAfter !== undefined && retryAfter > 0
            ? { error: `${error.message} You can ask for a new code in ${retryText(retryAfter)}.` }
            : { error: error.message, ...(attemptsRemaining === undefined ? {} : { attemptsRemaining }) };
    // The form that failed: its input is marked, its group stays open.
    const active =
      factor === undefined
        ? {}
        : {
            active: {
              factor,
              ...(factorId ? { factorId } : {}),
              ...(sending ? { intent: "send" as const } : {}),
            },
          };
    const cancelUrl = cancelUrlFor(http, request, now.challenge, form.get("cancel"));
    const ticked = remember ? { rememberChecked: true } : {};
    return challengePageResponse(http, now, error.status, headers, {
      ...page,
      ...active,
      ...ticked,
      cancelUrl,
    });
  }
}
