import { randomBytes } from "node:crypto";
import type { OpenedChallenge, StepUpUser } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import { renderChallengePage } from "../pages/index.js";

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

/** Extra state of a re-rendered challenge page. */
export interface ChallengePageState {
  error?: string;
  attemptsRemaining?: number;
}

/** The challenge page for an opened challenge (inline at the protected URL, or at its own URL). */
export function challengePageResponse(
  http: HttpContext,
  user: StepUpUser,
  opened: OpenedChallenge,
  status: number,
  headers: Headers = new Headers(),
  state: ChallengePageState = {},
): Response {
  const { challenge } = opened;
  const nonce = newNonce();
  const returnTo = challenge.returnTo ?? "/";
  const body = renderChallengePage({
    appName: http.engine.config.appName,
    nonce,
    basePath: http.basePath,
    challengeId: challenge.id,
    resource: challenge.resource,
    action: challenge.action,
    factors: opened.factors.map((f) => ({ id: f.id, type: f.type, name: f.name, primary: f.primary })),
    csrfToken: http.csrf.token(`${user.id}:${challenge.id}`),
    consoleUrl: `${http.basePath}/console?returnTo=${encodeURIComponent(returnTo)}`,
    ...state,
  });
  return pageResponse(body, status, headers, nonce);
}
