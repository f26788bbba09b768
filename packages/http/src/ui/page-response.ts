import { randomBytes } from "node:crypto";
import { retryText } from "@stepup/browser/retry-text";
import type { Challenge, CodeSent, OpenedChallenge, StepUpError } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import { renderChallengePage, renderMessagePage } from "../pages/index.js";
import { safeReturnTo } from "../security.js";

/** A fresh CSP nonce: 128 bits per response. */
export function newNonce(): string {
  return randomBytes(16).toString("base64url");
}

function csp(nonce: string): string {
  // Only our nonce'd style/script run; forms may only post to this origin; no framing (clickjacking).
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "img-src data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** An HTML response with the page security headers; `nonce` must be the one the page was rendered with. */
export function pageResponse(
  body: string,
  status: number,
  headers: Headers = new Headers(),
  nonce = "",
): Response {
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("content-security-policy", csp(nonce || newNonce()));
  headers.set("x-content-type-options", "nosniff");
  headers.set("x-frame-options", "DENY");
  headers.set("referrer-policy", "same-origin");
  return new Response(body, { status, headers });
}

/**
 * Where the challenge page's Cancel goes: back to the page the user came from, on this origin
 * only (or a trusted origin's). `carried` is the page's own hidden `cancel` field (so a wrong code does not lose it); else
 * the Referer. Never the URL the challenge guards (cancelling would open it again), nor a
 * challenge page; when nothing fits, "/".
 *
 * @example
 * cancelUrlFor(http, request, opened.challenge, form.get("cancel")); // "/settings" or "/"
 */
export function cancelUrlFor(
  http: Pick<HttpContext, "basePath"> & { readonly trustedOrigins?: readonly string[] },
  request: { readonly url: string; readonly headers: { get(name: string): string | null } },
  challenge: Pick<Challenge, "returnTo">,
  carried?: unknown,
): string {
  const url = new URL(request.url);
  const referer = request.headers.get("referer");
  let fromReferer: string | undefined;
  if (referer && URL.canParse(referer)) {
    const r = new URL(referer);
    // The trusted origins too: behind a proxy that ends TLS, the browser's origin is one of them.
    if (r.origin === url.origin || http.trustedOrigins?.includes(r.origin))
      fromReferer = r.pathname + r.search;
  }
  for (const candidate of [carried, fromReferer]) {
    const path = safeReturnTo(candidate, url);
    if (path === undefined) continue;
    const pathname = new URL(path, url).pathname;
    if (path === challenge.returnTo || path === url.pathname + url.search) continue;
    if (pathname.startsWith(`${http.basePath}/challenge/`)) continue;
    return path;
  }
  return "/";
}

/** Extra state of a re-rendered challenge page. */
export interface ChallengePageState {
  /** Where Cancel goes (from `cancelUrlFor`). */
  cancelUrl?: string;
  error?: string;
  attemptsRemaining?: number;
  /** Seconds until the usual methods can be tried again (a 429's Retry-After). */
  retryAfter?: number;
  /** A polite notice (a code was just sent). */
  notice?: string;
  /** The form the previous post came from (its input carries the error). */
  active?: { factor: string; factorId?: string; intent?: "send" };
  /** Codes sent by this request, by factor id, over what `show` reported. */
  sent?: Readonly<Record<string, CodeSent>>;
  /** "Remember this device" was ticked on the post that failed. */
  rememberChecked?: boolean;
}

/** Codes already sent, in seconds from now (what the page says and its script counts down). */
function sentForPage(sent: Readonly<Record<string, CodeSent>>, nowMs: number) {
  return Object.fromEntries(
    Object.entries(sent).map(([id, s]) => [
      id,
      {
        destination: s.destination,
        expiresIn: Math.max(0, Math.ceil((s.expiresAtMs - nowMs) / 1000)),
        resendIn: Math.max(0, Math.ceil((s.resendAfterMs - nowMs) / 1000)),
      },
    ]),
  );
}

/** The challenge page for an opened challenge (inline at the protected URL, or at its own URL). */
export function challengePageResponse(
  http: HttpContext,
  opened: OpenedChallenge,
  status: number,
  headers: Headers = new Headers(),
  state: ChallengePageState = {},
): Response {
  const { challenge } = opened;
  const { sent: justSent, ...rest } = state;
  const sent = { ...opened.sent, ...justSent };
  const nonce = newNonce();
  const returnTo = challenge.returnTo ?? "/";
  const body = renderChallengePage({
    appName: http.engine.config.appName,
    nonce,
    basePath: http.basePath,
    challengeId: challenge.id,
    resource: challenge.resource,
    action: challenge.action,
    ...(challenge.label === undefined ? {} : { label: challenge.label }),
    factors: opened.factors.map((f) => http.engine.offer(f)),
    ...(challenge.description === undefined ? {} : { description: challenge.description }),
    ...(opened.userLocked ? { userLocked: true } : {}),
    csrfToken: http.csrf.token(`${challenge.uid}:${challenge.id}`),
    consoleUrl: `${http.basePath}/console?returnTo=${encodeURIComponent(returnTo)}`,
    after: {
      method: challenge.method === "POST" ? "POST" : "GET",
      url: returnTo,
      ...(challenge.method === "POST" && challenge.form ? { fields: challenge.form } : {}),
    },
    ...(Object.keys(sent).length > 0 ? { sent: sentForPage(sent, Date.now()) } : {}),
    rememberDays: http.engine.config.policy.trustedDays,
    ...rest,
  });
  return pageResponse(body, status, headers, nonce);
}

/** A small page for dead ends, rendered with the same nonce its CSP allows. */
export function messagePage(
  http: HttpContext,
  status: number,
  title: string,
  message: string,
  headers = new Headers(),
  link: { href: string; label: string } = { href: "/", label: "Go to the home page" },
): Response {
  const nonce = newNonce();
  const body = renderMessagePage({
    appName: http.engine.config.appName,
    nonce,
    basePath: http.basePath,
    title,
    message,
    link,
  });
  return pageResponse(body, status, headers, nonce);
}

/** Page-flavoured errors for browsers (challenge page, console, guard). */
export function errorPage(http: HttpContext, error: StepUpError): Response {
  switch (error.code) {
    case "CHALLENGE_NOT_FOUND":
    case "CHALLENGE_SESSION_MISMATCH":
      return messagePage(http, error.status, "This request has expired", "Go back and try the action again.");
    case "UNAUTHENTICATED":
      return messagePage(http, 401, "Sign in first", "You need to be signed in to continue.");
    case "STORE_UNAVAILABLE":
      return messagePage(
        http,
        503,
        "Temporarily unavailable",
        "Verification is unavailable right now. Please try again in a moment.",
      );
    case "USER_LOCKED":
      return messagePage(
        http,
        429,
        "Verification locked",
        "There were too many failed attempts, so verification is locked. Use a recovery code, or contact support to unlock it.",
      );
    case "CHALLENGE_EXHAUSTED":
      return messagePage(
        http,
        429,
        "Too many wrong codes",
        "Go back and try the action again to get a new request.",
      );
    case "ORIGIN_MISMATCH":
    case "CSRF_FAILED":
      return messagePage(
        http,
        403,
        "Request refused",
        "This request came from another site. Nothing was done.",
      );
    case "PAYLOAD_TOO_LARGE":
      return messagePage(
        http,
        413,
        "Form too large",
        "This form is too large to keep while you confirm it's you.",
      );
    case "TOO_MANY_ATTEMPTS": {
      const retryAfter = error.details.retryAfter ?? 60;
      return messagePage(
        http,
        429,
        "Too many attempts",
        `For your security, verification is paused. Try again in ${retryText(retryAfter)}.`,
        new Headers({ "retry-after": String(retryAfter) }),
      );
    }
    default:
      return messagePage(http, error.status, "Something went wrong", error.message);
  }
}
