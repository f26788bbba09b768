import type { GuardRequest } from "./guard/guard.js";
import { safeReturnTo } from "./security.js";

/** Where a signed-out browser goes: a URL (`returnTo` is added), or a function of the return path. */
export type SignInUrl = string | ((returnTo: string) => string);

/**
 * Validates `signInUrl` once, at start-up: a path on this origin (`/login`) or an absolute
 * http(s) URL (a login on another origin), or a function.
 * @throws TypeError naming the option
 */
export function resolveSignInUrl(value: unknown): SignInUrl | undefined {
  if (value === undefined || typeof value === "function") return value as SignInUrl | undefined;
  const ok =
    typeof value === "string" &&
    ((value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\")) ||
      (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)));
  if (!ok)
    throw new TypeError(
      "stepup: option `signInUrl` must be a path like /login, an http(s) URL, or a function",
    );
  return value as string;
}

/**
 * The redirect that sends a signed-out browser to the app's login, to come back to where it was
 * (a same-origin path only). 303, so a form post becomes a GET of the login page.
 */
export function signInRedirect(signInUrl: SignInUrl, request: GuardRequest): Response {
  const url = new URL(request.url);
  const back = safeReturnTo(url.pathname + url.search, url) ?? "/";
  let location: string;
  if (typeof signInUrl === "function") {
    location = signInUrl(back);
  } else {
    const target = new URL(signInUrl, url);
    target.searchParams.set("returnTo", back);
    location = signInUrl.startsWith("/") ? target.pathname + target.search : target.href;
  }
  return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
}
