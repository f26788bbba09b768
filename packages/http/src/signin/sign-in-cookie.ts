import { sealData, unsealData } from "iron-session";
import { type CookieRequest, type CookieSchemeOptions, cookieScheme } from "../internal/cookie-scheme.js";
import type { CookieToSet } from "../internal/cookies.js";
import { SEAL_SHAPE } from "../session-cookie.js";

/** A sign-in waiting for its second factor: whose password was checked, and which record completes it. */
export interface PendingSignIn {
  uid: string;
  signInId: string;
}

/**
 * The sign-in cookie: a sealed `{ uid, signInId }` set by `beginSignIn` and cleared on completion.
 * It is the only identity a browser has between the app's password check and the second factor.
 */
export interface SignInCookie {
  /** The pending sign-in in a Cookie header, or undefined (absent, tampered, expired, foreign). */
  read(
    cookieHeader: string | null | undefined,
    nowMs: number,
    request?: CookieRequest,
  ): Promise<PendingSignIn | undefined>;
  /** Whether the header carries a sign-in cookie at all (valid or not): worth clearing. */
  present(cookieHeader: string | null | undefined, request?: CookieRequest): boolean;
  create(pending: PendingSignIn, url: URL): Promise<CookieToSet>;
  clear(url: URL): CookieToSet;
}

/**
 * Marks the seal as a sign-in cookie: the step-up cookie is sealed with the same secrets, and
 * neither may be read as the other (a `{ sid, uid }` seal has no purpose, so it is refused here).
 */
const PURPOSE = "signin";

/**
 * The sign-in cookie, under the step-up cookie's prefix rules as `<name>_signin`
 * (`__Host-stepup_signin` in production). It lives as long as the challenge (`ttlSeconds`): a
 * sign-in not finished by then starts over at the password.
 */
export function createSignInCookie(
  options: CookieSchemeOptions & { secrets: readonly string[]; ttlSeconds: number },
): SignInCookie {
  // iron-session seals with the highest password id; the first secret is current.
  const password = Object.fromEntries(options.secrets.map((s, i) => [String(options.secrets.length - i), s]));
  const scheme = cookieScheme({ ...options, name: `${options.name}_signin` });
  const ttl = options.ttlSeconds;

  return {
    async read(cookieHeader, nowMs, request) {
      const sealed = scheme.valueIn(cookieHeader, request);
      if (!sealed || sealed.length > 4096) return undefined;
      const shape = SEAL_SHAPE.exec(sealed);
      if (!shape || !Object.hasOwn(password, shape[1] ?? "")) return undefined;
      if (Number(shape[2]) <= nowMs) return undefined; // expired by our clock (iron checks its own)
      try {
        const data = await unsealData<Record<string, unknown>>(sealed, { password, ttl });
        const { p, uid, signInId } = data;
        if (p !== PURPOSE || typeof uid !== "string" || typeof signInId !== "string") return undefined;
        return { uid, signInId };
      } catch {
        return undefined; // tampered or foreign: no pending sign-in
      }
    },

    present(cookieHeader, request) {
      return scheme.valueIn(cookieHeader, request) !== undefined;
    },

    async create(pending, url) {
      const sealed = await sealData(
        { p: PURPOSE, uid: pending.uid, signInId: pending.signInId },
        { password, ttl },
      );
      return scheme.toSet(url, sealed, ttl);
    },

    clear(url) {
      return scheme.toSet(url, "", 0);
    },
  };
}
