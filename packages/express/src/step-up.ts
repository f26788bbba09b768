import {
  StepUpError,
  type StepUpEvent,
  type StepUpUser,
  type TrackInput,
  type TrackOptions,
} from "@stepup/core";
import {
  type BeginSignInOptions,
  createStepUpHttp,
  ENROLL_BY_HEADER,
  type GuardDetails,
  type GuardInput,
  type GuardOptions,
  type GuardOutcome,
  problem,
  type RequestContext,
  type StepUpHttp,
  type StepUpHttpOptions,
  type StepUpInfo,
  setCookieHeader,
  transactionInput,
} from "@stepup/http";
import {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from "express";
import { ExpressGuardRequest, formFields, guardView, sendResponse, toFetchRequest } from "./fetch-bridge.js";
import { setStepUp } from "./request-info.js";

declare global {
  namespace Express {
    interface Request {
      /**
       * What was verified, set by `requireStepUp` before the handler runs. Frozen (shared by the
       * requests of a session). An accessor on Express's request prototype, as `req.query` is: not an
       * own property of `req` (a property added per request costs V8 a new hidden class each time).
       */
      stepUp?: StepUpInfo;
    }
  }
}

/** Options of `stepUp()`: the HTTP layer's options plus how to find the signed-in user. */
export interface ExpressStepUpOptions extends StepUpHttpOptions {
  /** Who is signed in, from your own auth (session, JWT, anything); null when nobody. */
  getUser: (req: Request) => StepUpUser | null | undefined | Promise<StepUpUser | null | undefined>;
}

/** Options of one protected route. */
export interface RequireStepUpOptions extends GuardOptions {
  /**
   * For `match: "transaction"`: the request's details to bind the step-up to (e.g. amount, payee),
   * as typed values (`{ amount: 100 }` and `{ amount: ["100"] }` are different transactions). Throw
   * `StepUpError("INVALID_INPUT")` for details that make no sense: the client gets a 400.
   */
  transaction?: (req: Request) => unknown;
  /**
   * What is being approved, in words the user checks before confirming ("Send 1234 to alice"):
   * shown on the challenge page and in the modal, and bound into the transaction digest (PSD2
   * dynamic linking). At most 200 characters. Only with `transaction`.
   */
  describe?: (req: Request) => string;
  /**
   * The request's details for the policy's `when` triggers and `decide` hook (e.g. `{ amount }`),
   * without binding the step-up to them. Called only when the rule's policy reads them. A
   * transaction rule's `transaction` details are given already; this wins over them.
   */
  details?: (req: Request) => GuardDetails | Promise<GuardDetails>;
}

/** Options of `beginSignIn`. */
export type SignInOptions = Pick<BeginSignInOptions, "returnTo">;

/** What `stepUp()` returns. */
export interface ExpressStepUp {
  /** Mount at `basePath`: `app.use("/stepup", stepup.router)`. */
  router: Router;
  /** Middleware that lets a request through only with a fresh enough step-up. */
  requireStepUp(options: RequireStepUpOptions): RequestHandler;
  /**
   * The sign-in second factor, after your own password check: `true` when stepup has answered
   * (the challenge page, a 401 `step_up_required` for `session:sign-in`, or a refusal): your
   * handler returns without signing anyone in. `false`: sign the user in now (no factor is due, a
   * trusted device, or this browser has just proved it and the login was retried). After the
   * challenge page, the browser goes to `returnTo`, whose handler calls `completeSignIn`.
   * @example
   * if (await stepup.beginSignIn(req, res, user.id, { returnTo: "/login/complete" })) return;
   * req.session.userId = user.id;
   */
  beginSignIn(req: Request, res: Response, userId: string, options?: SignInOptions): Promise<boolean>;
  /**
   * The user whose sign-in this browser has just completed with the second factor, once (sets
   * the cookie that ends the pending sign-in); null for a replay, another browser, or none pending.
   */
  completeSignIn(req: Request, res: Response): Promise<string | null>;
  /** Logout: ends the step-up session everywhere and deletes the cookie. */
  clear(req: Request, res: Response): Promise<void>;
  /**
   * Records your own sensitive action for the signed-in user (`getUser(req)`) with the client
   * address: in the audit log like stepup's own events, and to webhooks with `{ webhook: true }`.
   * Resolves once it is stored (before you answer).
   * @throws TypeError without a signed-in user, or for a bad tag, severity, status or metadata
   * @example
   * await stepup.track(req, { tag: "payout.approved", severity: "high", metadata: { amount } }, { webhook: true });
   */
  track(req: Request, input: TrackInput, options?: Pick<TrackOptions, "webhook">): Promise<StepUpEvent>;
  /** Turns body-parser errors under `basePath` into problem+json, or a page on the pages (mount after the router). */
  errorHandler: ErrorRequestHandler;
  /** The underlying HTTP layer and engine (revokeUser, events). */
  http: StepUpHttp;
}

/**
 * Express 4 leaves a promise rejected by middleware unhandled (the process dies on Node 15+);
 * Express 5 passes it to `next`. Every async middleware here hands its own failure to `next`, so
 * both behave the same, and Express gets no promise back.
 */
function forwardErrors(
  handler: (req: Request, res: Response, next: NextFunction) => Promise<void>,
): (req: Request, res: Response, next: NextFunction) => void {
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    handler(req, res, next).catch(next);
  };
  return Object.defineProperty(middleware, "name", { value: handler.name });
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

/** What the guard reads of the app's request: its user, and the client address only when asked. */
class ExpressRequestContext implements RequestContext {
  readonly user: StepUpUser | null;
  readonly #req: Request;
  constructor(req: Request, user: StepUpUser | null) {
    this.#req = req;
    this.user = user;
  }
  /** Express computes req.ip through proxy-addr on every read: only when a policy needs it. */
  get ip(): string | undefined {
    return this.#req.ip;
  }
}

function guardInput(
  req: Request,
  { transaction, describe, details }: Pick<RequireStepUpOptions, "transaction" | "describe" | "details">,
): GuardInput {
  const form = formFields(req);
  // A function: the guard calls it only when the rule's policy reads details.
  const given = details ? { details: () => details(req) } : {};
  if (!transaction) return { ...(form ? { form } : {}), ...given };
  return { ...(form ? { form } : {}), ...transactionInput(transaction(req), describe?.(req)), ...given };
}

async function userOf(getUser: ExpressStepUpOptions["getUser"], req: Request): Promise<StepUpUser | null> {
  return (await getUser(req)) ?? null;
}

/**
 * Step-up MFA for Express 4 (4.21+) and 5.
 *
 * @throws TypeError at start-up for a bad option, naming it.
 * @example
 * const stepup = stepUp({ store: memoryStore(), secret, appName: "Acme", getUser: (req) => req.user ?? null, factors: [totp()] });
 * app.use("/stepup", stepup.router);
 * app.post("/account/delete", stepup.requireStepUp({ resource: "account", action: "delete", maxAge: 300 }), handler);
 */
export function stepUp(options: ExpressStepUpOptions): ExpressStepUp {
  if (typeof options?.getUser !== "function")
    throw new TypeError("stepup: option `getUser` must be a function");
  const { getUser } = options;
  const http = createStepUpHttp(options);
  const router = Router();

  const handleStepUpRoute = async (req: Request, res: Response): Promise<void> => {
    let request: globalThis.Request;
    try {
      request = toFetchRequest(req);
    } catch (error) {
      if (!(error instanceof StepUpError)) throw error;
      await sendResponse(res, http.refuse(req.originalUrl, error));
      return;
    }
    const user = await userOf(getUser, req);
    await sendResponse(res, await http.handle(request, { user, ...(req.ip ? { ip: req.ip } : {}) }));
  };
  router.use(forwardErrors(handleStepUpRoute));

  return {
    router,
    http,
    requireStepUp(opts) {
      const { transaction, describe, details, ...guardOptions } = opts ?? ({} as RequireStepUpOptions);
      const guard = http.guard(guardOptions, { where: "requireStepUp", transaction, describe, details });
      const fns = { transaction, describe, details };
      // The hot path allocates little and awaits nothing it does not have to: a plain function
      // (no async frame), a synchronous getUser read as is, no input object for a plain GET, and
      // the guard's answer used directly when it is synchronous (the store's cache held the session).
      const run = (req: Request, res: Response, next: NextFunction, user: StepUpUser | null): void => {
        const view = new ExpressGuardRequest(req);
        let input: GuardInput | undefined;
        try {
          input = req.method === "GET" && !transaction && !details ? undefined : guardInput(req, fns);
        } catch (error) {
          // The app's transaction/describe refused the request's details: a client error.
          if (error instanceof StepUpError)
            sendResponse(res, problem(error.code, error.message, { ...error.details })).catch(next);
          else next(error);
          return;
        }
        // A throw here (the handler's `next()` does not throw; `setHeader` could) reaches `next`.
        const finish = (outcome: GuardOutcome): void => {
          try {
            if (outcome.kind === "pass") {
              setStepUp(req, outcome.stepUp);
              // Within a REQUIRED policy's grace period: tell the client the deadline to enrol by.
              if (outcome.stepUp.enrollBy !== null) res.setHeader(ENROLL_BY_HEADER, outcome.stepUp.enrollBy);
              next();
              return;
            }
            sendResponse(res, http.render(view, outcome)).catch(next);
          } catch (error) {
            next(error);
          }
        };
        const outcome = guard(view, new ExpressRequestContext(req, user), input);
        // One promise step: the guard's promise never rejects (failures are outcomes), `next` if it did.
        if (outcome instanceof Promise) outcome.then(finish, next);
        else finish(outcome);
      };
      const requireStepUp = (req: Request, res: Response, next: NextFunction): void => {
        try {
          const found = getUser(req);
          if (isThenable(found)) {
            Promise.resolve(found)
              .then((user) => run(req, res, next, user ?? null))
              .catch(next);
            return;
          }
          run(req, res, next, found ?? null);
        } catch (error) {
          next(error);
        }
      };
      return requireStepUp;
    },
    async beginSignIn(req, res, userId, opts = {}) {
      const view = guardView(req);
      const outcome = await http.beginSignIn(view, userId, {
        ...(opts.returnTo === undefined ? {} : { returnTo: opts.returnTo }),
        ...(req.ip ? { ip: req.ip } : {}),
      });
      if (outcome.kind === "proceed") {
        for (const c of outcome.cookies) res.append("set-cookie", setCookieHeader(c));
        return false;
      }
      await sendResponse(res, http.render(view, outcome));
      return true;
    },
    async completeSignIn(req, res) {
      const done = await http.completeSignIn(guardView(req));
      if (!done) return null;
      for (const c of done.cookies) res.append("set-cookie", setCookieHeader(c));
      return done.userId;
    },
    async track(req, input, opts = {}) {
      const user = await userOf(getUser, req);
      if (!user) throw new TypeError("stepup: track() needs a signed-in user (getUser returned none)");
      return http.engine.track(user.id, input, {
        ...(opts.webhook === undefined ? {} : { webhook: opts.webhook }),
        ...(req.ip ? { ip: req.ip } : {}),
      });
    },
    async clear(req, res) {
      const user = await userOf(getUser, req);
      const view = guardView(req);
      // The browser forgets the cookie even if the store is down; the store record then dies by TTL
      // or when the store returns, and the error still reaches the app (logout is not silently partial).
      res.append("set-cookie", http.clearCookie(view));
      await http.clear(view, user?.id);
    },
    errorHandler(error, req, res, next) {
      const status = typeof error?.status === "number" ? error.status : 500;
      if (!req.originalUrl.startsWith(http.basePath) || status >= 500 || res.headersSent) return next(error);
      // A page (the challenge page's form, the console's) answers with a page, the API with problem+json.
      const refusal =
        status === 413
          ? new StepUpError("PAYLOAD_TOO_LARGE", "The body is too large.")
          : new StepUpError("INVALID_INPUT", "The request body could not be read.");
      sendResponse(res, http.refuse(req.originalUrl, refusal)).catch(next);
    },
  };
}
