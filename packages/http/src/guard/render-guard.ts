import { type OfferedFactor, SIGN_IN, StepUpError, userLocked } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import { setCookieHeader } from "../internal/cookies.js";
import { problem, toResponse } from "../problem.js";
import { safeReturnTo, wantsHtml } from "../security.js";
import { signInRedirect } from "../sign-in.js";
import { cancelUrlFor, challengePageResponse, errorPage, messagePage } from "../ui/page-response.js";
import { type GuardOutcome, type GuardRequest, relativeUrl } from "./guard.js";

/** What a client needs to step up and retry: the server already opened the challenge. */
export interface StepUpRequiredBody {
  challengeId: string;
  challengeUrl: string;
  resource: string;
  action: string;
  /** What the action is, in words ("open the admin panel"), when the rule gives a `label`. */
  label?: string;
  /** Seconds a verification stays fresh for this rule. */
  maxAge: number;
  /** Enrolled factors the challenge accepts now, primary first. */
  factors: OfferedFactor[];
  /** ISO time the challenge expires. */
  expiresAt: string;
  /** What is being approved, in words (transaction rules with `describe`). */
  description?: string;
  /** Present when the user has no factor for this rule yet: where to enroll one. */
  enrollUrl?: string;
  /**
   * Days "Remember this device" trusts this browser for (`policy.trustedDevices.days`), so a client
   * can offer the box; absent when trusted devices are off.
   */
  trustedDeviceDays?: number;
}

type StepUpRequiredOutcome = Extract<GuardOutcome, { kind: "step-up-required" }>;

const signingIn = (rule: { resource: string; action: string }) =>
  rule.resource === SIGN_IN.resource && rule.action === SIGN_IN.action;

/** The public fields of a step-up-required outcome (the 401 body, a Server Action's result). */
export function stepUpRequiredBody(http: HttpContext, outcome: StepUpRequiredOutcome): StepUpRequiredBody {
  const { challenge, factors } = outcome.opened;
  return {
    challengeId: challenge.id,
    challengeUrl: `${http.basePath}/challenge/${challenge.id}`,
    resource: outcome.rule.resource,
    action: outcome.rule.action,
    ...(challenge.label === undefined ? {} : { label: challenge.label }),
    maxAge: outcome.rule.maxAge,
    factors: factors.map((f) => http.engine.offer(f)),
    expiresAt: new Date(challenge.expiresAtMs).toISOString(),
    ...(challenge.description === undefined ? {} : { description: challenge.description }),
    // Where to add a factor, for a user who has none: not for a locked user (they have factors),
    // nor while signing in (the console needs the app's session, which does not exist yet).
    ...(factors.length === 0 && !outcome.opened.userLocked && !signingIn(outcome.rule)
      ? { enrollUrl: `${http.basePath}/console` }
      : {}),
    ...trustedDeviceDays(http),
  };
}

/**
 * `{ trustedDeviceDays }` when trusted devices are on (the days "Remember this device" lasts), else
 * nothing: what a client needs to offer the box, as the challenge page does.
 */
export function trustedDeviceDays(http: HttpContext): { trustedDeviceDays?: number } {
  const days = http.engine.config.policy.trustedDays;
  return days > 0 ? { trustedDeviceDays: days } : {};
}

/** The error a locked outcome stands for (429, with Retry-After unless the lock has no end). */
export function lockedError(outcome: Extract<GuardOutcome, { kind: "locked" }>): StepUpError {
  // A locked user whose recovery path is itself in a window lock can use it again after that.
  const after = outcome.retryAfter > 0 ? { retryAfter: outcome.retryAfter } : {};
  return outcome.userLocked
    ? userLocked(after)
    : new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Try again later.", {
        retryAfter: outcome.retryAfter,
      });
}

/** The body of a 403 `enrollment_required`: where the user sets up a factor, and for what. */
export interface EnrollmentRequiredBody {
  resource: string;
  action: string;
  /** The console, where a factor is set up. */
  enrollUrl: string;
}

/** The public fields of an enrollment-required outcome (the 403 body, a Server Action's result). */
export function enrollmentRequiredBody(
  http: HttpContext,
  outcome: Extract<GuardOutcome, { kind: "enrollment-required" }>,
): EnrollmentRequiredBody {
  return {
    resource: outcome.rule.resource,
    action: outcome.rule.action,
    enrollUrl: `${http.basePath}/console`,
  };
}

/**
 * Where a browser comes back to after enrolling: the page it asked for (a GET), else the same-origin
 * page the form was on (a POST's URL cannot be opened again by a link).
 */
function comeBackTo(request: GuardRequest): string | undefined {
  const url = new URL(request.url);
  if (request.method === "GET" || request.method === "HEAD") return relativeUrl(url);
  const referer = request.headers.get("referer");
  if (!referer || !URL.canParse(referer)) return undefined;
  const from = new URL(referer);
  return from.origin === url.origin ? safeReturnTo(from.pathname + from.search, url) : undefined;
}

/**
 * Renders a guard outcome that did not pass, per DESIGN's table: the challenge page inline for a
 * browser navigation or form, problem+json for everyone else (with the RFC 9470 header for a
 * bearer client), 403 blocked, 403 enrollment required (a page linking to the console for a
 * browser), 429 locked, 503 when the store is down.
 */
export function renderGuard(
  http: HttpContext,
  request: GuardRequest,
  outcome: Exclude<GuardOutcome, { kind: "pass" }>,
): Response {
  const html = wantsHtml(request);
  switch (outcome.kind) {
    case "step-up-required": {
      const headers = new Headers();
      for (const c of outcome.cookies) headers.append("set-cookie", setCookieHeader(c));
      if (html) {
        const cancelUrl = cancelUrlFor(http, request, outcome.opened.challenge);
        return challengePageResponse(http, outcome.opened, 401, headers, { cancelUrl });
      }
      if (/^bearer\s/i.test(request.headers.get("authorization") ?? "")) {
        // RFC 9470 section 3: tell an OAuth client what authentication event it must bring: how
        // recent (`max_age`) and how strong (`acr_values`, the rule's level).
        headers.set(
          "www-authenticate",
          `Bearer error="insufficient_user_authentication", error_description="A fresh step-up is required", max_age=${outcome.rule.maxAge}, acr_values="${outcome.rule.level}"`,
        );
      }
      const body = stepUpRequiredBody(http, outcome);
      const response = problem("STEP_UP_REQUIRED", "Confirm it's you with a second factor to continue.", {
        ...body,
      });
      headers.forEach((value, key) => {
        if (key !== "set-cookie") response.headers.set(key, value);
      });
      for (const c of headers.getSetCookie()) response.headers.append("set-cookie", c);
      return response;
    }
    case "locked": {
      const error = lockedError(outcome);
      return html ? errorPage(http, error) : toResponse(error, http.log);
    }
    case "blocked":
      if (html) return messagePage(http, 403, "Not allowed", "This action is not allowed.");
      return problem("STEP_UP_BLOCKED", "This action is not allowed.", {
        resource: outcome.rule.resource,
        action: outcome.rule.action,
      });
    case "enrollment-required": {
      const body = enrollmentRequiredBody(http, outcome);
      if (html) {
        const back = comeBackTo(request);
        const href = back ? `${body.enrollUrl}?returnTo=${encodeURIComponent(back)}` : body.enrollUrl;
        return messagePage(
          http,
          403,
          "Set up two-step verification",
          "This action needs two-step verification, which isn't set up on your account yet. It takes about a minute.",
          new Headers(),
          { href, label: "Set up two-step verification" },
        );
      }
      return problem("ENROLLMENT_REQUIRED", "Set up two-step verification to continue.", { ...body });
    }
    case "error":
      if (outcome.error instanceof StepUpError && outcome.error.code === "UNAUTHENTICATED") {
        // A browser goes to the app's login when it has one; API clients keep the 401.
        return html && http.signInUrl
          ? signInRedirect(http.signInUrl, request)
          : toResponse(outcome.error, http.log);
      }
      if (html && outcome.error instanceof StepUpError) {
        if (outcome.error.code === "STORE_UNAVAILABLE")
          http.log("store unavailable", { cause: String(outcome.error.cause) });
        return errorPage(http, outcome.error);
      }
      return toResponse(outcome.error, http.log);
  }
}
