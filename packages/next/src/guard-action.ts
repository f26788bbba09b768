import { StepUpError } from "@stepup/core";
import { type CookieToSet, type GuardOutcome, lockedError, type StepUpHttp, wireCode } from "@stepup/http";
import type { GuardActionError, GuardActionResult } from "./action-result.js";
import { forwardedHop } from "./client-address.js";

/** The parts of Next's `headers()` and `cookies()` a Server Action guard needs (injectable for tests). */
export interface ActionRequestApi {
  headers(): Promise<{
    get(name: string): string | null;
    forEach(fn: (value: string, key: string) => void): void;
  }>;
  cookies(): Promise<{ set(name: string, value: string, options: Record<string, unknown>): unknown }>;
}

const ERRORS: ReadonlySet<string> = new Set<GuardActionError>([
  "unauthenticated",
  "origin_mismatch",
  "step_up_blocked",
  "too_many_attempts",
  "user_locked",
  "invalid_input",
  "store_unavailable",
]);

/**
 * A Server Action is a public POST endpoint that anyone can call with a forged form: it is only
 * ours if the browser says it comes from this very origin (scheme, host and port), or one the app
 * trusts. A missing `Origin` is refused too: every browser sends one on a POST.
 */
export function originAllowed(
  origin: string | null,
  ownOrigin: string,
  trustedOrigins: readonly string[],
): boolean {
  if (!origin || origin === "null") return false;
  return origin === ownOrigin || trustedOrigins.includes(origin);
}

/** Builds the Fetch `Request` a Server Action stands for, from Next's request headers. */
export function actionRequest(
  headers: Awaited<ReturnType<ActionRequestApi["headers"]>>,
  hops: number,
): { request: Request; origin: string } {
  const host = forwardedHop(headers.get("x-forwarded-host"), hops) ?? headers.get("host") ?? "localhost";
  const forwardedProto = forwardedHop(headers.get("x-forwarded-proto"), hops);
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host);
  const proto =
    forwardedProto === "http" || forwardedProto === "https" ? forwardedProto : local ? "http" : "https";
  const copy = new Headers();
  headers.forEach((value, key) => {
    copy.append(key, value);
  });
  // An action's caller is script (React's fetch), so the guard answers in JSON, never a page.
  copy.set("accept", "application/json");
  copy.delete("sec-fetch-mode");
  // A Host (or X-Forwarded-Host) that is more than a host and port makes no origin of ours:
  // userinfo (`a@b`) would even make the Request below throw (a URL with credentials).
  let url: URL;
  try {
    url = new URL(`${proto}://${host}/`);
    if (url.username || url.password || url.pathname !== "/" || url.search || url.hash)
      throw new TypeError(host);
  } catch {
    url = new URL("https://invalid.localhost/");
  }
  return { request: new Request(url, { method: "POST", headers: copy }), origin: url.origin };
}

/** Turns a guard outcome into the typed, serializable result an action returns: no Response read back. */
export function toActionResult(
  http: StepUpHttp,
  outcome: GuardOutcome,
  log: (message: string, meta: Record<string, unknown>) => void,
): GuardActionResult {
  switch (outcome.kind) {
    case "pass":
      return { ok: true, stepUp: outcome.stepUp };
    case "step-up-required":
      return { ok: false, stepUpRequired: http.stepUpRequired(outcome) };
    case "blocked":
      return { ok: false, error: "step_up_blocked" };
    case "enrollment-required":
      return {
        ok: false,
        error: "enrollment_required",
        enrollUrl: http.enrollmentRequired(outcome).enrollUrl,
      };
    case "locked": {
      const error = lockedError(outcome);
      const retryAfter = error.details.retryAfter;
      return {
        ok: false,
        error: wireCode(error.code) as GuardActionError,
        ...(retryAfter ? { retryAfter } : {}),
      };
    }
    case "error": {
      const code = outcome.error instanceof StepUpError ? wireCode(outcome.error.code) : "internal_error";
      if (!ERRORS.has(code)) log("step-up guard failed", { cause: String(outcome.error) });
      return { ok: false, error: (ERRORS.has(code) ? code : "internal_error") as GuardActionError };
    }
  }
}

/** Applies cookies to set (a new step-up session) through Next's `cookies()`. */
export async function applyCookies(cookies: readonly CookieToSet[], api: ActionRequestApi): Promise<void> {
  if (cookies.length === 0) return;
  const jar = await api.cookies();
  for (const c of cookies) {
    const a = c.attributes;
    jar.set(c.name, c.value, {
      httpOnly: true,
      path: a.path,
      sameSite: a.sameSite.toLowerCase(),
      secure: a.secure,
      ...(a.maxAgeSeconds === undefined ? {} : { maxAge: a.maxAgeSeconds }),
      ...(a.domain ? { domain: a.domain } : {}),
    });
  }
}
