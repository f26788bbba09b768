import type { StepUpHttp } from "../src/create-step-up-http.js";
import { type CookieToSet, setCookieHeader } from "../src/internal/cookies.js";
import type { BeginSignInOptions } from "../src/signin/begin-sign-in.js";

export const origin = "http://localhost:3000";

/** How a request is sent: a browser navigation/form (a page) or script (JSON). */
type Mode = "page" | "json";

/**
 * A browser signing in to an app whose `getUser` says nobody until the sign-in completes: it keeps
 * its own cookie jar, posts the login (the app then calls `beginSignIn`) and reaches the
 * completion route (`completeSignIn`). Two of these are two browsers.
 */
export function signInBrowser(http: StepUpHttp) {
  const jar = new Map<string, string>();
  const keepHeaders = (sets: readonly string[]) => {
    for (const set of sets) {
      const [pair = ""] = set.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === "" || /Max-Age=0\b/.test(set)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const keep = (res: Response) => keepHeaders(res.headers.getSetCookie());
  const keepCookies = (cookies: readonly CookieToSet[]) => keepHeaders(cookies.map(setCookieHeader));
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

  function request(path: string, mode: Mode, body?: Record<string, unknown>, method = "POST"): Request {
    const headers: Record<string, string> = { cookie: cookie(), origin };
    if (mode === "page") {
      headers.accept = "text/html";
      headers["sec-fetch-mode"] = "navigate";
    } else headers.accept = "application/json";
    if (body !== undefined && mode === "page") headers["content-type"] = "application/x-www-form-urlencoded";
    if (body !== undefined && mode === "json") headers["content-type"] = "application/json";
    const text =
      body === undefined
        ? null
        : mode === "page"
          ? new URLSearchParams(body as Record<string, string>).toString()
          : JSON.stringify(body);
    return new Request(`${origin}${path}`, {
      method: body === undefined ? method : "POST",
      headers,
      body: text,
    });
  }

  return {
    jar,
    cookie,
    /** The app's login handler after its password check: `beginSignIn`, rendered when not `proceed`. */
    async login(
      userId: string,
      mode: Mode = "page",
      opts: BeginSignInOptions = { returnTo: "/login/complete" },
    ) {
      const req = request("/login", mode, { username: userId, password: "hunter2" });
      const outcome = await http.beginSignIn(req, userId, opts);
      if (outcome.kind === "proceed") {
        keepCookies(outcome.cookies);
        return { outcome, response: undefined };
      }
      const response = http.render(req, outcome);
      keep(response);
      return { outcome, response };
    },
    /** A stepup route, as this browser, signed out in the app (`getUser` null). */
    async stepup(path: string, mode: Mode, body?: Record<string, unknown>, method?: string) {
      const res = await http.handle(request(`/stepup/${path}`, mode, body, method), { user: null });
      keep(res);
      return res;
    },
    /** The app's completion route: `completeSignIn`. */
    async complete() {
      const done = await http.completeSignIn(request("/login/complete", "page", undefined, "GET"));
      if (done) keepCookies(done.cookies);
      return done;
    },
    request,
  };
}

/** The page's CSRF token. */
export const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
