import {
  StepUpError,
  type StepUpEvent,
  type StepUpUser,
  type TrackInput,
  type TrackOptions,
} from "@stepup/core";
import {
  checkGuardOptions,
  ENROLL_BY_HEADER,
  type GuardDetails,
  type GuardInput,
  type GuardOptions,
  problem,
  readBodyBytes,
  type StepUpHttp,
  type StepUpHttpOptions,
  type StepUpInfo,
  transactionInput,
} from "@stepup/http";
import { cookies, headers } from "next/headers.js";
import type { GuardActionResult } from "./action-result.js";
import type { TrustProxy } from "./client-address.js";
import {
  type ActionRequestApi,
  actionRequest,
  applyCookies,
  originAllowed,
  toActionResult,
} from "./guard-action.js";
import { type Instance, lazyInstance, userOf } from "./instance.js";
import { rethrowNextErrors } from "./next-errors.js";
import {
  type SignInActionResult,
  type SignInCompletion,
  type SignInOptions,
  signInMethods,
} from "./sign-in.js";

type MaybePromise<T> = T | Promise<T>;

/** Options of `createStepUp()`: the HTTP layer's options plus how to find the signed-in user. */
export interface NextStepUpOptions extends StepUpHttpOptions {
  /** Who is signed in, from your own auth (session cookie, JWT, anything); null when nobody. */
  getUser: (request: Request) => MaybePromise<StepUpUser | null | undefined>;
  /**
   * How many proxies in front of the app append to `X-Forwarded-For` (`true` = one). The client
   * address is then the entry the last trusted proxy wrote, counted from the right (never the
   * first, which the client chooses); `X-Forwarded-Host`/`-Proto` are read the same way for Server
   * Actions. Route handlers in Next see no socket address: without this or `clientIp`, per-address
   * guessing limits cannot apply, and stepup says so at start-up. @default false
   */
  trustProxy?: TrustProxy;
  /** The client address of a request, when your platform provides it another way. Wins over `trustProxy`. */
  clientIp?: (request: Request) => string | undefined;
}

/** Options of one protected route handler. */
export interface WithStepUpOptions extends GuardOptions {
  /**
   * For `match: "transaction"`: the request's details to bind the step-up to (e.g. amount, payee),
   * as typed values. Gets a copy of the request (body at most 64 KiB). Throw
   * `StepUpError("INVALID_INPUT")` for details that make no sense: the client gets a 400.
   */
  transaction?: (request: Request) => MaybePromise<unknown>;
  /**
   * What is being approved, in words ("Send 1234 to alice"): shown on the challenge page and in
   * the modal, and bound into the transaction digest. At most 200 characters. Only with `transaction`.
   */
  describe?: (request: Request) => MaybePromise<string>;
  /**
   * The request's details for the policy's `when` triggers and `decide` hook (e.g. `{ amount }`),
   * without binding the step-up to them. Gets a copy of the request; called only when the rule's
   * policy reads them. Wins over a transaction rule's `transaction` details.
   */
  details?: (request: Request) => MaybePromise<GuardDetails>;
}

/** Options of one guarded Server Action. */
export interface GuardActionOptions extends GuardOptions {
  /** For `match: "transaction"`: the action's details to bind the step-up to. */
  transaction?: unknown;
  /** What is being approved, in words (bound into the digest with `transaction`). */
  description?: string;
  /** The action's details for the policy's `when` triggers and `decide` hook, not bound to the step-up. */
  details?: GuardDetails;
}

/** A route handler after `withStepUp`: what Next calls. */
export type RouteHandler<Context> = (request: Request, context: Context) => Promise<Response>;

/** A route handler that runs only with a fresh step-up; `stepUp` says what was verified. */
export type SteppedUpHandler<Context> = (
  request: Request,
  context: Context,
  stepUp: StepUpInfo,
) => MaybePromise<Response>;

type Handler = (request: Request) => Promise<Response>;

/** What `createStepUp()` returns. */
export interface NextStepUp {
  /** Wraps a route handler so it only runs with a fresh enough step-up. */
  withStepUp<Context = unknown>(
    handler: SteppedUpHandler<Context>,
    options: WithStepUpOptions,
  ): RouteHandler<Context>;
  /** `export const { GET, POST, PATCH, DELETE } = stepup.handlers` in `app/stepup/[...stepup]/route.ts`. */
  handlers: { GET: Handler; POST: Handler; PATCH: Handler; DELETE: Handler };
  /** Guards a Server Action: `const g = await stepup.guardAction(opts); if (!g.ok) return g;` */
  guardAction(options: GuardActionOptions): Promise<GuardActionResult>;
  /**
   * The sign-in second factor in your login route handler, after your own password check: a
   * Response to return (the challenge page, a 401 `step_up_required` for `session:sign-in`, or a
   * refusal), or null: sign the user in now (no factor due, a trusted device, or this browser has
   * just proved it and the login was retried by `stepUpFetch`).
   * @example
   * const challenge = await stepup.beginSignIn(request, user.id, { returnTo: "/login/complete" });
   * if (challenge) return challenge;
   */
  beginSignIn(request: Request, userId: string, options?: SignInOptions): Promise<Response | null>;
  /**
   * `beginSignIn` from a Server Action (cookies set through `cookies()`): `{ ok: true }` signs the
   * user in; return a failure as is (`useStepUp` steps up and calls the action again).
   */
  beginSignInAction(userId: string, options?: SignInOptions): Promise<SignInActionResult>;
  /**
   * In your `returnTo` route handler: the user whose sign-in this browser just proved, once, with
   * the `headers` (Set-Cookie) to put on your response; null for a replay or another browser.
   * @throws StepUpError STORE_UNAVAILABLE
   */
  completeSignIn(request: Request): Promise<SignInCompletion | null>;
  /** Logout: ends the step-up session everywhere; returns the Set-Cookie header that deletes the cookie. */
  clear(request: Request): Promise<string>;
  /**
   * Records your own sensitive action for the signed-in user (`getUser(request)`) with the client
   * address: in the audit log like stepup's own events, and to webhooks with `{ webhook: true }`.
   * Resolves once it is stored (before you answer).
   * @throws TypeError without a signed-in user, or for a bad tag, severity, status or metadata
   * @example
   * await stepup.track(request, { tag: "payout.approved", severity: "high" }, { webhook: true });
   */
  track(request: Request, input: TrackInput, options?: Pick<TrackOptions, "webhook">): Promise<StepUpEvent>;
  /**
   * The underlying HTTP layer and engine (revokeUser, unlockUser, events). Reading it builds the
   * instance (and validates the options): not at module scope of a route file.
   */
  readonly http: StepUpHttp;
}

const NEXT_REQUEST_API: ActionRequestApi = { headers, cookies } as unknown as ActionRequestApi;

/** How `createStepUp` is wired (tests inject Next's request API and keep instances apart). */
export interface CreateStepUpInternals {
  api?: ActionRequestApi;
  /** Share one instance per process and basePath. @default true */
  shared?: boolean;
}

type Guard = ReturnType<StepUpHttp["guard"]>;

/**
 * Step-up MFA for the Next.js App Router (route handlers and Server Actions). Create it in a
 * module of its own and import it where needed. One instance serves the whole process for its
 * basePath, however many bundles evaluate the module, and it is built on first use: `next build`
 * needs no runtime secret. A bad option throws (naming it) on the first request, logged.
 *
 * @throws TypeError at once for a missing resource/action or a non-function `transaction`/`describe`
 * @example
 * export const stepup = createStepUp({ store: memoryStore(), secret, appName: "Acme", factors: [totp()],
 *   getUser: async () => (await currentUser()) ?? null });
 * export const POST = stepup.withStepUp(async () => Response.json({ deleted: true }),
 *   { resource: "account", action: "delete", maxAge: 300 });
 */
export function createStepUp(
  options: NextStepUpOptions,
  internals: CreateStepUpInternals | ActionRequestApi = {},
): NextStepUp {
  const wiring: CreateStepUpInternals =
    "headers" in internals ? { api: internals, shared: false } : internals;
  const api = wiring.api ?? NEXT_REQUEST_API;
  const instance = lazyInstance(options, wiring.shared ?? true);
  const actionGuards = new Map<string, Guard>();

  async function handle(request: Request): Promise<Response> {
    let user: StepUpUser | null;
    let inst: Instance | undefined;
    try {
      inst = instance();
      user = await userOf(inst, request);
    } catch (error) {
      rethrowNextErrors(error);
      report(inst, error);
      return internalError();
    }
    const ip = inst.ipOf(request);
    return inst.http.handle(request, { user, ...(ip ? { ip } : {}) });
  }

  return Object.freeze({
    get http(): StepUpHttp {
      return instance().http;
    },
    handlers: Object.freeze({ GET: handle, POST: handle, PATCH: handle, DELETE: handle }),

    withStepUp<Context>(handler: SteppedUpHandler<Context>, opts: WithStepUpOptions): RouteHandler<Context> {
      if (typeof handler !== "function") throw new TypeError("stepup: withStepUp needs a handler function");
      checkGuardOptions("withStepUp", opts, opts);
      const { transaction, describe, details, ...guardOptions } = opts;
      let guard: Guard | undefined;
      return async function steppedUp(request, context) {
        let passed: StepUpInfo;
        let inst: Instance | undefined;
        try {
          inst = instance();
          guard ??= inst.http.guard(guardOptions, { where: "withStepUp", transaction, describe, details });
          const user = await userOf(inst, request);
          const input = await guardInput(request, transaction, describe, details);
          const ip = inst.ipOf(request);
          const outcome = await guard(request, { user, ...(ip ? { ip } : {}) }, input);
          if (outcome.kind !== "pass") return inst.http.render(request, outcome);
          passed = outcome.stepUp;
        } catch (error) {
          rethrowNextErrors(error);
          if (error instanceof StepUpError) return problem(error.code, error.message, { ...error.details });
          report(inst, error);
          return internalError();
        }
        // The handler's own errors (including redirect() and notFound()) are Next's to handle.
        const response = await handler(request, context, passed);
        return passed.enrollBy === null ? response : withHeader(response, ENROLL_BY_HEADER, passed.enrollBy);
      };
    },

    async guardAction(opts: GuardActionOptions): Promise<GuardActionResult> {
      checkGuardOptions("guardAction", opts);
      const { transaction, description, details, ...guardOptions } = opts;
      let inst: Instance | undefined;
      try {
        inst = instance();
        // One guard per resource:action (and whether it binds a transaction); `declareRule`
        // validates the options the first time.
        const key = JSON.stringify([guardOptions, transaction !== undefined]);
        let guard = actionGuards.get(key);
        if (!guard) {
          // An action's transaction is its details themselves, not a function of a request.
          const bound = transaction === undefined ? undefined : () => transaction;
          guard = inst.http.guard(guardOptions, { where: "guardAction", transaction: bound });
          actionGuards.set(key, guard);
        }
        const { request, origin } = actionRequest(await api.headers(), inst.hops);
        if (!originAllowed(request.headers.get("origin"), origin, inst.trustedOrigins))
          return { ok: false, error: "origin_mismatch" };
        const user = await userOf(inst, request);
        const bound: GuardInput | undefined =
          transaction === undefined ? undefined : transactionInput(transaction, description);
        const input = details === undefined ? bound : { ...bound, details };
        const ip = inst.ipOf(request);
        const outcome = await guard(request, { user, ...(ip ? { ip } : {}) }, input);
        if (outcome.kind === "step-up-required") await applyCookies(outcome.cookies, api);
        return toActionResult(inst.http, outcome, inst.log);
      } catch (error) {
        rethrowNextErrors(error);
        if (error instanceof StepUpError && error.code === "INVALID_INPUT")
          return { ok: false, error: "invalid_input" };
        report(inst, error);
        return { ok: false, error: "internal_error" };
      }
    },

    ...signInMethods(instance, api),

    async track(request: Request, input: TrackInput, opts: Pick<TrackOptions, "webhook"> = {}) {
      const inst = instance();
      const user = await userOf(inst, request);
      if (!user) throw new TypeError("stepup: track() needs a signed-in user (getUser returned none)");
      const ip = inst.ipOf(request);
      return inst.http.engine.track(user.id, input, {
        ...(opts.webhook === undefined ? {} : { webhook: opts.webhook }),
        ...(ip ? { ip } : {}),
      });
    },

    async clear(request: Request): Promise<string> {
      const inst = instance();
      const user = await userOf(inst, request);
      return inst.http.clear(request, user?.id);
    },
  });
}

/**
 * The guard's extra inputs: the transaction digest (with its description), and an HTML form
 * post's fields so the challenge page can re-submit them after the step-up. Reads a clone once, at
 * most MAX_BODY_BYTES counted as it streams (as Express's body limit would): the handler still gets
 * the body, and `transaction`/`describe` get copies of the bytes read, never the unbounded stream.
 * @throws StepUpError PAYLOAD_TOO_LARGE (a 413 through the caller), INVALID_INPUT
 */
async function guardInput(
  request: Request,
  transaction: WithStepUpOptions["transaction"],
  describe: WithStepUpOptions["describe"],
  details: WithStepUpOptions["details"],
): Promise<GuardInput | undefined> {
  const isForm =
    request.method === "POST" &&
    (request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded");
  if (!isForm && !transaction && !details) return undefined;
  const bytes = request.body && (isForm || transaction) ? await readBodyBytes(request.clone()) : undefined;
  const form = isForm ? [...new URLSearchParams(new TextDecoder().decode(bytes))] : undefined;
  const copy = () => (bytes ? new Request(request, { body: bytes }) : request.clone());
  // A function: the guard calls it only when the rule's policy reads details.
  const given = details ? { details: () => details(copy()) } : {};
  if (!transaction) return { ...(form ? { form } : {}), ...given };
  const description = describe ? await describe(copy()) : undefined;
  return { ...(form ? { form } : {}), ...transactionInput(await transaction(copy()), description), ...given };
}

/** A response with one more header; a copy when its headers are immutable (`Response.redirect`). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}

/**
 * Logs a failure server-side: a misconfiguration (TypeError, first use) with its own message that
 * names the option; anything else as a guard failure. Never sent to the client.
 */
function report(inst: Instance | undefined, error: unknown): void {
  const message = error instanceof TypeError ? error.message : "step-up guard failed";
  const meta = error instanceof TypeError ? {} : { cause: String(error) };
  if (inst) inst.log(message, meta);
  else console.error(`[stepup] ${message}`, meta);
}

/** A failure of the app's own code (getUser, transaction): a 500 with no details (fail closed). */
function internalError(): Response {
  return Response.json(
    { type: "about:blank", title: "Internal error", status: 500, error: "internal_error" },
    { status: 500, headers: { "content-type": "application/problem+json", "cache-control": "no-store" } },
  );
}
