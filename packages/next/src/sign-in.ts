import { setCookieHeader } from "@stepup/http";
import type { GuardActionFailure } from "./action-result.js";
import {
  type ActionRequestApi,
  actionRequest,
  applyCookies,
  originAllowed,
  toActionResult,
} from "./guard-action.js";
import type { Instance } from "./instance.js";
import { rethrowNextErrors } from "./next-errors.js";

/** Options of `beginSignIn` and `beginSignInAction`. */
export interface SignInOptions {
  /**
   * Where the challenge page goes after the second factor: your completion route handler, which
   * calls `completeSignIn` (e.g. `/login/complete`). A same-origin path. @default the current path
   */
  returnTo?: string;
}

/**
 * What `beginSignInAction` resolves with: `{ ok: true }` signs the user in now; a failure is
 * returned from the Server Action as is (`useStepUp` steps up on `stepUpRequired` and calls the
 * action again, which then resolves `{ ok: true }`).
 */
export type SignInActionResult = { ok: true } | GuardActionFailure;

/** What `completeSignIn` resolves with: the verified user, and the Set-Cookie to put on your response. */
export interface SignInCompletion {
  userId: string;
  /** Ends the pending sign-in (clears its cookie): copy onto the Response you return. */
  headers: Headers;
}

/**
 * Cookies to set on a `proceed`: through Next's `cookies()` (route handlers and Server Actions),
 * since the app, not stepup, writes that response. Outside a request scope they cannot be set, and
 * the pending sign-in cookie then simply expires (its record is already spent).
 */
async function applyQuietly(
  cookies: Parameters<typeof applyCookies>[0],
  api: ActionRequestApi,
  inst: Instance,
): Promise<void> {
  try {
    await applyCookies(cookies, api);
  } catch (error) {
    rethrowNextErrors(error);
    inst.log("could not clear the sign-in cookie", { cause: String(error) });
  }
}

/** The sign-in second factor for the App Router (see `NextStepUp`). */
export function signInMethods(instance: () => Instance, api: ActionRequestApi) {
  return {
    async beginSignIn(
      request: Request,
      userId: string,
      options: SignInOptions = {},
    ): Promise<Response | null> {
      const inst = instance();
      const ip = inst.ipOf(request);
      const outcome = await inst.http.beginSignIn(request, userId, {
        ...(options.returnTo === undefined ? {} : { returnTo: options.returnTo }),
        ...(ip ? { ip } : {}),
      });
      if (outcome.kind !== "proceed") return inst.http.render(request, outcome);
      await applyQuietly(outcome.cookies, api, inst);
      return null;
    },

    async beginSignInAction(userId: string, options: SignInOptions = {}): Promise<SignInActionResult> {
      let inst: Instance | undefined;
      try {
        inst = instance();
        const { request, origin } = actionRequest(await api.headers(), inst.hops);
        // A forged cross-site call must not start (or finish) a sign-in in this browser.
        if (!originAllowed(request.headers.get("origin"), origin, inst.trustedOrigins))
          return { ok: false, error: "origin_mismatch" };
        const ip = inst.ipOf(request);
        const outcome = await inst.http.beginSignIn(request, userId, {
          ...(options.returnTo === undefined ? {} : { returnTo: options.returnTo }),
          ...(ip ? { ip } : {}),
        });
        if (outcome.kind === "proceed") {
          await applyCookies(outcome.cookies, api);
          return { ok: true };
        }
        if (outcome.kind === "step-up-required") await applyCookies(outcome.cookies, api);
        return toActionResult(inst.http, outcome, inst.log) as GuardActionFailure;
      } catch (error) {
        rethrowNextErrors(error);
        if (error instanceof TypeError) throw error; // a missing user id: the app's bug, said loudly
        const log = inst?.log ?? ((m: string, meta?: unknown) => console.error(`[stepup] ${m}`, meta));
        log("sign-in failed", { cause: String(error) });
        return { ok: false, error: "internal_error" };
      }
    },

    async completeSignIn(request: Request): Promise<SignInCompletion | null> {
      const done = await instance().http.completeSignIn(request);
      if (!done) return null;
      const headers = new Headers();
      for (const c of done.cookies) headers.append("set-cookie", setCookieHeader(c));
      return { userId: done.userId, headers };
    },
  };
}
