import { StepUpError } from "@stepup/core";
import type { GuardOutcome, GuardRequest } from "../guard/guard.js";
import type { HttpContext } from "../http-context.js";
import type { CookieToSet } from "../internal/cookies.js";
import { crossOriginWrite, safeReturnTo } from "../security.js";

/** Options of `beginSignIn`. */
export interface BeginSignInOptions {
  /**
   * Where the challenge page goes after the second factor: your completion route, which calls
   * `completeSignIn` (e.g. `/login/complete`). A same-origin path; anything else (including a
   * `returnTo` a visitor put in your login URL) falls back to the current path.
   */
  returnTo?: string | undefined;
  /** The client address (per-address limits, the `newIp` trigger). */
  ip?: string | undefined;
}

/**
 * What `beginSignIn` decided, as data (like a guard outcome): `proceed` signs the user in now (set
 * `cookies`); `step-up-required` is rendered like the guard's (`http.render`): the challenge page
 * or a 401 `step_up_required` for `session:sign-in`, with the step-up and sign-in cookies.
 */
export type SignInOutcome =
  /**
   * No second factor is due now (`reason`: none enrolled, a trusted device, the policy waives it),
   * or this browser has just proved it (`"verified"`). `cookies` clear a pending sign-in cookie.
   */
  | { kind: "proceed"; reason: string; cookies: CookieToSet[] }
  | Extract<GuardOutcome, { kind: "step-up-required" | "blocked" | "error" }>;

/** What `completeSignIn` returns: the verified user, once, and the cookie that ends the sign-in. */
export interface SignInCompleted {
  userId: string;
  cookies: CookieToSet[];
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Completes this browser's pending sign-in for `userId` when it already holds the proof: both its
 * cookies name that user, and the step-up session they point to holds a fresh sign-in assurance.
 * The pending record is taken atomically (the engine's `signIn.complete`): true once.
 */
async function completeHere(
  http: HttpContext,
  request: GuardRequest,
  userId: string | undefined,
): Promise<string | undefined> {
  const header = request.headers.get("cookie");
  const now = http.engine.now();
  const pending = await http.signInCookie.read(header, now, request);
  if (!pending || (userId !== undefined && pending.uid !== userId)) return undefined;
  const session = await http.cookie.read(header, now, request);
  // Another browser has neither cookie; a session of another user is no proof for this one.
  if (!session || session.uid !== pending.uid) return undefined;
  const done = await http.engine.signIn.complete(pending.uid, session.sid, pending.signInId);
  return done ? pending.uid : undefined;
}

/**
 * The sign-in second factor, after the app's own password check. The app is not signed in yet:
 * the challenge is opened in a new step-up session, and a sealed sign-in cookie is this browser's
 * only identity until the factor is proved (it opens the four routes of a `session:sign-in`
 * challenge, nothing else). A retry after the proof (`stepUpFetch` re-sending the login) completes
 * the sign-in here, so the retried login proceeds.
 * Never throws for a request: failures are `error` outcomes (fail closed).
 * @throws TypeError for a missing user id (a bug in the caller)
 */
export async function beginSignIn(
  http: HttpContext,
  request: GuardRequest,
  userId: string,
  options: BeginSignInOptions = {},
): Promise<SignInOutcome> {
  if (typeof userId !== "string" || userId.length === 0)
    throw new TypeError("stepup: beginSignIn needs the id of the user whose password you checked");
  try {
    // A cross-site login post must not start (or finish) a sign-in in this browser.
    if (!SAFE_METHODS.has(request.method) && crossOriginWrite(request, http.trustedOrigins))
      throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
    const url = new URL(request.url);
    const clearing = http.signInCookie.present(request.headers.get("cookie"), request)
      ? [http.signInCookie.clear(url)]
      : [];
    if ((await completeHere(http, request, userId)) !== undefined)
      return { kind: "proceed", reason: "verified", cookies: clearing };
    const returnTo =
      safeReturnTo(options.returnTo, url) ?? safeReturnTo(url.pathname + url.search, url) ?? "/";
    const device = http.device.read(request.headers.get("cookie"), request);
    const started = await http.engine.signIn.begin({ id: userId }, { ip: options.ip, device, returnTo });
    const rule = http.engine.signIn.rule;
    // A policy hook that blocks the sign-in refuses it: the password alone must not get through.
    if (started.outcome === "blocked") return { kind: "blocked", rule };
    if (started.outcome === "complete") return { kind: "proceed", reason: started.reason, cookies: clearing };
    const cookies = await Promise.all([
      http.cookie.create({ sid: started.sid, uid: userId }, url),
      http.signInCookie.create({ uid: userId, signInId: started.signInId }, url),
    ]);
    return { kind: "step-up-required", rule, opened: started.opened, cookies };
  } catch (error) {
    return { kind: "error", error };
  }
}

/**
 * The user whose sign-in this browser has just proved, once: the sign-in cookie and the step-up
 * cookie (the session the factor was proved in) must both come from this browser. A replay, a
 * browser without the cookies, or one with another browser's step-up cookie gets null.
 * @throws StepUpError STORE_UNAVAILABLE
 */
export async function completeSignIn(
  http: HttpContext,
  request: GuardRequest,
): Promise<SignInCompleted | null> {
  const userId = await completeHere(http, request, undefined);
  if (userId === undefined) return null;
  return { userId, cookies: [http.signInCookie.clear(new URL(request.url))] };
}
