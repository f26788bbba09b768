import {
  createStepUp,
  type RuleOptions,
  type StepUp,
  StepUpError,
  type StepUpOptions,
  type StepUpUser,
} from "@stepup/core";
import { handleAdmin } from "./admin/admin-routes.js";
import { handleApi } from "./api/api-routes.js";
import { serveJwks } from "./api/tokens.js";
import { serveAsset } from "./assets/serve-asset.js";
import { createDeviceCookie } from "./device-cookie.js";
import { type GuardInput, type GuardOutcome, type GuardRequest, runRouteGuard } from "./guard/guard.js";
import { checkGuardOptions, type TransactionFunctions } from "./guard/guard-options.js";
import {
  type EnrollmentRequiredBody,
  enrollmentRequiredBody,
  renderGuard,
  type StepUpRequiredBody,
  stepUpRequiredBody,
} from "./guard/render-guard.js";
import type { HttpContext, RequestContext } from "./http-context.js";
import { serveOpenApi } from "./openapi/serve-open-api.js";
import { problemFromError, toResponse } from "./problem.js";
import { createCsrf } from "./security.js";
import { createSessionCookie } from "./session-cookie.js";
import { resolveSignInUrl, type SignInUrl, signInRedirect } from "./sign-in.js";
import {
  type BeginSignInOptions,
  beginSignIn,
  completeSignIn,
  type SignInCompleted,
  type SignInOutcome,
} from "./signin/begin-sign-in.js";
import { createSignInCookie } from "./signin/sign-in-cookie.js";
import { signInIdentity } from "./signin/sign-in-identity.js";
import { showChallenge, submitChallenge } from "./ui/challenge-routes.js";
import { showConsole, submitConsole } from "./ui/console-routes.js";
import { errorPage } from "./ui/page-response.js";

/** Options of the HTTP layer: the engine's options plus where and how it is served. */
export interface StepUpHttpOptions extends StepUpOptions {
  /** Where the API and pages are mounted. @default "/stepup" */
  basePath?: string;
  cookie?: {
    /**
     * The base name; a Secure cookie is sent as `__Host-<name>` (`__Secure-<name>` with a `domain`),
     * and the plain name is read only where the cookie is not Secure. The device cookie ("remember
     * this device") is `<name>_device`, named the same way.
     * @default "stepup"
     */
    name?: string;
    /** @default true, except on http://localhost */
    secure?: boolean;
    /** @default "Lax" */
    sameSite?: "Lax" | "Strict";
    domain?: string;
  };
  /**
   * Origins allowed to make state-changing calls besides the request's own (e.g. the https origin
   * browsers see when a proxy terminates TLS). @default none
   */
  trustedOrigins?: readonly string[];
  /**
   * Where a browser that is not signed in is sent (303) instead of a 401: your login page, as a
   * path (`/login`, `?returnTo=<path>` is added), an http(s) URL, or a function of the return path.
   * API clients keep the 401 problem+json. @default none (401 for everyone)
   */
  signInUrl?: SignInUrl;
  /**
   * Turns on the admin API (`{basePath}/admin/users/{id}`: status, audit, reset, revoke, unlock):
   * whether the signed-in `user` is an administrator. The administrator must also have a fresh
   * step-up of their own (`stepup:admin`). @default none (the admin API answers 404)
   */
  authorizeAdmin?: (user: StepUpUser, request: Request) => boolean | Promise<boolean>;
  /**
   * The user with this id, from your directory (`{ id, email? }`): the admin API tells a user whose
   * factors were reset, at that address. @default none (the notice has the id only: the `email()`
   * notifier skips it)
   */
  findUser?: (id: string) => StepUpUser | null | undefined | Promise<StepUpUser | null | undefined>;
}

/** Options of one guarded route. */
export interface GuardOptions extends RuleOptions {
  resource: string;
  action: string;
}

/** The areas under `basePath` that are pages for browsers (everything else answers JSON). */
const PAGE_AREAS: ReadonlySet<string> = new Set(["challenge", "console"]);

/**
 * The framework-neutral HTTP layer: Fetch `Request` in, `Response` out. Adapters (Express, Next)
 * only translate I/O and call `handle`, `guard` and `clear`.
 *
 * @example
 * const http = createStepUpHttp({ store, secret, appName: "Acme", factors: [totp()] });
 * const guard = http.guard({ resource: "account", action: "delete", maxAge: 300 });
 * const result = await guard(request, { user });
 */
export function createStepUpHttp(options: StepUpHttpOptions) {
  const engine: StepUp = createStepUp(options);
  const basePath = options.basePath ?? "/stepup";
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(basePath))
    throw new TypeError("stepup: option `basePath` must be a path like /stepup");
  const trustedOrigins = options.trustedOrigins ?? [];
  for (const o of trustedOrigins) {
    if (typeof o !== "string" || new URL(o).origin !== o)
      throw new TypeError("stepup: option `trustedOrigins` must list origins like https://app.example");
  }
  for (const name of ["authorizeAdmin", "findUser"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function")
      throw new TypeError(`stepup: option \`${name}\` must be a function`);
  }
  if (options.findUser && !options.authorizeAdmin)
    throw new TypeError("stepup: option `findUser` is for the admin API: set `authorizeAdmin` too");
  const c = options.cookie ?? {};
  if (c.name !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(c.name))
    throw new TypeError("stepup: option `cookie.name` is not a valid cookie name");
  const logger = engine.config.logger;
  // One set of name and prefix rules for every cookie stepup sets.
  const scheme = {
    name: c.name ?? "stepup",
    path: "/",
    sameSite: c.sameSite ?? "Lax",
    ...(c.secure === undefined ? {} : { secure: c.secure }),
    ...(c.domain ? { domain: c.domain } : {}),
  } as const;
  const http: HttpContext = {
    engine,
    basePath,
    trustedOrigins,
    cookie: createSessionCookie({
      ...scheme,
      secrets: engine.config.secrets,
      ttlSeconds: engine.config.sessionTtl,
    }),
    signInCookie: createSignInCookie({
      ...scheme,
      secrets: engine.config.secrets,
      ttlSeconds: engine.config.challengeTtl,
    }),
    device: createDeviceCookie(scheme),
    csrf: createCsrf(engine.config.secrets[0] ?? ""),
    log: (message, meta) => logger.error(message, meta),
    signInUrl: resolveSignInUrl(options.signInUrl),
    ...(options.authorizeAdmin
      ? { admin: { authorize: options.authorizeAdmin, findUser: options.findUser } }
      : {}),
  };

  async function route(
    http: HttpContext,
    request: Request,
    ctx: RequestContext,
    segments: string[],
  ): Promise<Response> {
    const [area, ...rest] = segments;
    // The token signing keys are public: anyone checking a step-up token reads them.
    if (area === ".well-known" && rest.length === 1 && rest[0] === "jwks.json")
      return serveJwks(http, request);
    // The app's own signed-in user only: never a pending sign-in's (below), never a bearer token.
    if (area === "admin") return handleAdmin(http, request, ctx, rest);
    // Between the app's password check and the second factor, a sign-in cookie stands in for the
    // user on the sign-in challenge's own routes (nowhere else).
    if (!ctx.user) {
      const signer = await signInIdentity(http, request, segments).catch((error: unknown) => {
        if (area !== "api" && error instanceof StepUpError) return errorPage(http, error);
        throw error;
      });
      if (signer instanceof Response) return signer;
      if (signer) ctx = { ...ctx, user: signer };
    }
    if (area === "api") return handleApi(http, request, ctx, rest);
    // The browser bundle is public and static: no user needed.
    if (area === "assets" && rest.length === 1 && rest[0]) return serveAsset(request, rest[0]);
    // So is the API's OpenAPI document.
    if (area === "openapi.json" && rest.length === 0) return serveOpenApi(http, request, c.name ?? "stepup");
    const user = ctx.user;
    // The pages are for browsers: a signed-out one goes to the app's login when it has one.
    if (!user && http.signInUrl && request.method === "GET") return signInRedirect(http.signInUrl, request);
    try {
      if (!user) throw new StepUpError("UNAUTHENTICATED", "Sign in first.");
      if (area === "challenge" && rest.length === 1 && rest[0]) {
        if (request.method === "GET") return await showChallenge(http, request, user, rest[0]);
        if (request.method === "POST") return await submitChallenge(http, request, user, ctx, rest[0]);
      }
      if (area === "console" && rest.length === 0 && request.method === "GET")
        return await showConsole(http, request, user);
      if (area === "console" && rest.length > 0 && request.method === "POST")
        return await submitConsole(http, request, user, ctx, rest);
      throw new StepUpError("NOT_FOUND", "No such page.");
    } catch (error) {
      if (error instanceof StepUpError) {
        if (error.code === "STORE_UNAVAILABLE")
          logger.error("store unavailable", { cause: String(error.cause) });
        return errorPage(http, error);
      }
      throw error;
    }
  }

  let warnedMount = false;
  /**
   * A request that reached stepup's handler outside `basePath`: the router (or Next's catch-all
   * route) is mounted somewhere else than configured. Every such call would 404: say how to fix it.
   */
  function outsideBasePath(path: string): Response {
    if (!warnedMount) {
      warnedMount = true;
      logger.error(
        `stepup received ${path}, outside its basePath ${basePath}: mount the router (or app/stepup/[...stepup]/route.ts) at ${basePath}, or set the \`basePath\` option to where it is mounted`,
      );
    }
    return toResponse(
      new StepUpError(
        "NOT_FOUND",
        `No such endpoint: stepup is configured for ${basePath} but mounted elsewhere. Set \`basePath\` to the mount path.`,
      ),
      http.log,
    );
  }

  return Object.freeze({
    engine,
    basePath,

    /** Serves everything under `basePath`: the JSON API and the pages. Never throws. */
    async handle(request: Request, ctx: RequestContext): Promise<Response> {
      try {
        const path = new URL(request.url).pathname;
        if (path !== basePath && !path.startsWith(`${basePath}/`)) return outsideBasePath(path);
        const segments = path
          .slice(basePath.length + 1)
          .split("/")
          .map(decodeURIComponent);
        return await route(http, request, ctx, segments);
      } catch (error) {
        if (error instanceof URIError)
          return toResponse(new StepUpError("INVALID_INPUT", "Malformed path."), http.log);
        return toResponse(error, http.log);
      }
    },

    /**
     * Builds a guard for one route; validates its options now (start-up), not per request. The
     * guard answers with data (`GuardOutcome`); `render` turns an outcome that did not pass into
     * the Response DESIGN's table gives.
     * @throws TypeError for a bad option, or a rule declared elsewhere with different options
     */
    guard(
      opts: GuardOptions,
      use: { where?: string } & TransactionFunctions = {},
    ): (
      request: GuardRequest,
      ctx: RequestContext,
      input?: GuardInput,
    ) => GuardOutcome | Promise<GuardOutcome> {
      const where = use.where ?? "requireStepUp";
      checkGuardOptions(where, opts, use);
      const { resource, action, ...rule } = opts;
      const resolved = engine.declareRule(resource, action, rule);
      const key = `${resource}:${action}`;
      if (resolved.match === "transaction" && use.transaction === undefined) {
        // Without the request's details the grant can never match: the step-up would succeed and
        // the route then answer 401 for ever.
        throw new TypeError(
          `stepup: ${where}(${key}) has match "transaction" but no \`transaction\` function giving the details to bind (e.g. amount and payee)`,
        );
      }
      if (resolved.match !== "transaction" && use.transaction !== undefined) {
        throw new TypeError(
          `stepup: ${where}(${key}) has a \`transaction\` function, but its rule's match is "${resolved.match}": set match: "transaction" to bind the step-up to it`,
        );
      }
      return (request, ctx, input) => runRouteGuard(http, request, ctx, resolved, input);
    },

    /** The Response for a guard outcome that did not pass (page, problem+json, headers, cookies). */
    render(request: GuardRequest, outcome: Exclude<GuardOutcome, { kind: "pass" }>): Response {
      return renderGuard(http, request, outcome);
    },

    /** The public fields of a step-up-required outcome (what the 401 body holds). */
    stepUpRequired(outcome: Extract<GuardOutcome, { kind: "step-up-required" }>): StepUpRequiredBody {
      return stepUpRequiredBody(http, outcome);
    },

    /** The public fields of an enrollment-required outcome (what the 403 body holds). */
    enrollmentRequired(
      outcome: Extract<GuardOutcome, { kind: "enrollment-required" }>,
    ): EnrollmentRequiredBody {
      return enrollmentRequiredBody(http, outcome);
    },

    /**
     * Logout: ends the caller's step-up session in the store (every process) and returns the
     * Set-Cookie header that deletes the cookie. With no `userId` (nobody signed in) it only returns
     * that header: no unseal, no store access.
     * @throws StepUpError STORE_UNAVAILABLE
     */
    async clear(request: GuardRequest, userId?: string): Promise<string> {
      // Anonymous: the session a cookie names is not the caller's to end, and a flood of anonymous
      // logouts must not cost an unseal and a store write each.
      if (userId !== undefined) {
        const cookie = await http.cookie.read(request.headers.get("cookie"), engine.now(), request);
        if (cookie?.uid === userId) await engine.revokeSession(cookie.uid, cookie.sid);
      }
      return http.cookie.clear(new URL(request.url));
    },

    /**
     * The sign-in second factor, after your own password check (nobody is signed in yet). `proceed`:
     * sign the user in now (and set `cookies`); anything else is rendered with `render`: the
     * challenge page or a 401 `step_up_required` for `session:sign-in`, carrying the cookies that
     * let this browser answer it. After the factor, your `returnTo` route calls `completeSignIn`.
     * @throws TypeError for a missing user id
     */
    beginSignIn(request: GuardRequest, userId: string, opts?: BeginSignInOptions): Promise<SignInOutcome> {
      return beginSignIn(http, request, userId, opts);
    },

    /**
     * The user whose second factor this browser has just proved at sign-in, once (then null), with
     * the cookie that clears the pending sign-in. Null for a replay or another browser.
     * @throws StepUpError STORE_UNAVAILABLE
     */
    completeSignIn(request: GuardRequest): Promise<SignInCompleted | null> {
      return completeSignIn(http, request);
    },

    /** The Set-Cookie header that deletes the step-up cookie (no store access). */
    clearCookie(request: GuardRequest): string {
      return http.cookie.clear(new URL(request.url));
    },

    /**
     * The answer to a request under `basePath` refused before stepup read it (the app's own body
     * parser: a body too large or unreadable): the pages (`challenge`, `console`) answer with a
     * page, everything else with problem+json. `path` is the request's path (and query).
     */
    refuse(path: string, error: StepUpError): Response {
      const pathname = path.split("?")[0] ?? "";
      const area = pathname.startsWith(`${basePath}/`)
        ? pathname.slice(basePath.length + 1).split("/")[0]
        : "";
      return area !== undefined && PAGE_AREAS.has(area) ? errorPage(http, error) : problemFromError(error);
    },
  });
}

/** The HTTP layer returned by `createStepUpHttp`. */
export type StepUpHttp = ReturnType<typeof createStepUpHttp>;
