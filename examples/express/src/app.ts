import {
  type Clock,
  email,
  type PolicyOptions,
  recoveryCodes,
  StepUpError,
  type Store,
  sms,
  totp,
  type WebhookOptions,
  webauthn,
} from "@stepup/core";
import { stepUp } from "@stepup/express";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { getIronSession, type SessionOptions } from "iron-session";
import "./demo-user.js";
import {
  adminForbiddenPage,
  adminUsersPage,
  createUsers,
  DEV_TOKEN_KEY,
  type DemoPolicy,
  type DemoSenders,
  demoRules,
  demoTokens,
  describePolicy,
  describeTransfer,
  isAdmin,
  parseTransfer,
  passLine,
  resultPage,
  sendersFromEnv,
  stepupPolicy,
  userFromStepUpToken,
} from "@stepup/example-shared";
import { type FormError, homePage } from "./home-page.js";

/** Options of the demo app (the server reads them from the environment). */
export interface DemoOptions {
  store: Store;
  sessionSecret: string;
  stepupSecret: string;
  /** Overrides every demo rule's maxAge (seconds), e.g. from STEPUP_MAX_AGE. */
  maxAge?: number;
  /**
   * The exact origin browsers use for the demo (`http://localhost:3000`; the server passes
   * STEPUP_ORIGIN or `http://localhost:${PORT}`). Passkeys are bound to it, so they are offered,
   * with the passkey-only routes `/admin/security` and `/vault`, only when it is given.
   */
  origin?: string;
  /** WebAuthn relying party id. @default the hostname of `origin` */
  rpID?: string;
  /** Where step-up events go (the demo logs them). */
  onEvent?: Parameters<typeof stepUp>[0]["onEvent"];
  /** Guessing limits, when not the library's defaults (tests use this to look at one limit alone). */
  limits?: Parameters<typeof stepUp>[0]["limits"];
  /**
   * Where email and SMS codes go: the options of `email(...)` and `sms(...)`. The server passes
   * `sendersFromEnv()` (SMTP_URL, SMS_WEBHOOK_URL); in-process tests may pass their own `send`s.
   * @default each message printed on one stdout line (`[email] ...`, `[sms] ...`)
   */
  senders?: Pick<DemoSenders, "email" | "sms">;
  /**
   * The step-up policy: the server passes `policyFromEnv()` (STEPUP_POLICY, STEPUP_GRACE_DAYS,
   * STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN). `decide` is a risk hook (tests use it).
   * @default OPTIONAL, trusted devices for 30 days, no second factor at sign-in
   */
  policy?: Partial<Omit<DemoPolicy, "notes">> & { decide?: PolicyOptions["decide"] };
  /** Time, for stepup (tests move it instead of waiting). @default the system clock */
  clock?: Clock;
  /**
   * The step-up token signing key (PKCS#8 PEM): the server passes `tokenKeyFromEnv()`
   * (STEPUP_TOKEN_KEY). Tokens are issued by `origin` (`http://localhost` without one) for
   * `stepup-demo`. @default the committed development key (tests)
   */
  tokenKey?: string;
  /**
   * The administrators' emails (lower-cased): they may open /admin/users and stepup's admin API.
   * The server passes `adminsFromEnv().emails` (ADMIN_EMAILS). @default none
   */
  admins?: readonly string[];
  /**
   * Signed webhooks (Standard Webhooks) for every stepup event and the transfers' `track` events:
   * the server passes `webhooksFromEnv().options` (WEBHOOK_URL, WEBHOOK_SECRET). @default none
   */
  webhooks?: WebhookOptions;
}

/** The demo app, and how to stop its background work (the webhook worker) before a shutdown. */
export type DemoApp = Express & {
  /** Stops the webhook worker and waits for the delivery pass in flight. */
  closeStepUp(): Promise<void>;
};

interface DemoSession {
  userId?: string;
  email?: string;
}

function credentials(req: Request): { email: string; password: string } | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const { email, password } = body;
  if (typeof email !== "string" || typeof password !== "string") return undefined;
  if (!/^[^\s@]{1,64}@[^\s@]{1,190}$/.test(email) || password.length < 8 || password.length > 200)
    return undefined;
  return { email, password };
}

/** Where a form login goes next: the `returnTo` the sign-in redirect carried, same-origin only. */
function returnTo(req: Request): string {
  const value = (req.body as Record<string, unknown> | undefined)?.returnTo ?? req.query?.returnTo;
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.includes("\\"))
    return "/";
  return value;
}

/**
 * A form post gets a page (on success, back to where the sign-in redirect came from; on failure,
 * the form again with the error); a JSON client gets JSON, exactly as before.
 */
function reply(
  req: Request,
  res: Response,
  status: number,
  body: Record<string, unknown>,
  error?: FormError,
  page: (error: FormError) => string = (e) => homePage(undefined, e, returnTo(req)),
): void {
  if (req.is("application/x-www-form-urlencoded")) {
    if (status < 400) return void res.redirect(303, returnTo(req));
    if (error) return void res.status(status).type("html").send(page(error));
  }
  res.status(status).json(body);
}

/** The email a failed form post carried, to fill back in (only when it is a plausible one). */
function emailOf(req: Request): string | undefined {
  const email = (req.body as Record<string, unknown> | undefined)?.email;
  return typeof email === "string" && email.length <= 254 ? email : undefined;
}

/** The Express demo: a toy login standing for "your existing auth", and routes guarded by stepup. */
export function createDemoApp(options: DemoOptions): DemoApp {
  const users = createUsers(options.store);
  const sessionOptions: SessionOptions = {
    password: options.sessionSecret,
    cookieName: "demo_session",
    cookieOptions: { httpOnly: true, sameSite: "lax", secure: false },
  };
  // A session cookie iron-session cannot even parse (a tampered or foreign `demo_session`: it throws
  // "Wrong mac prefix" where a bad MAC only reads as empty) is no session, not a 500: read the
  // request without it; the next save replaces it.
  const session = async (req: Request, res: Response) => {
    try {
      return await getIronSession<DemoSession>(req, res, sessionOptions);
    } catch {
      const cookies = (req.headers.cookie ?? "")
        .split(";")
        .filter((c) => c.trim().split("=")[0] !== "demo_session");
      req.headers.cookie = cookies.join(";");
      return getIronSession<DemoSession>(req, res, sessionOptions);
    }
  };
  const maxAge = (seconds: number) => options.maxAge ?? seconds;
  const startSession = async (req: Request, res: Response, user: { id: string; email: string }) => {
    const s = await session(req, res);
    Object.assign(s, { userId: user.id, email: user.email });
    await s.save();
  };
  const { origin } = options;
  const passkeys =
    origin === undefined
      ? undefined
      : webauthn({ rpID: options.rpID ?? new URL(origin).hostname, origins: [origin] });

  const senders = options.senders ?? sendersFromEnv({});
  const policy = {
    requirement: options.policy?.requirement ?? "OPTIONAL",
    gracePeriodDays: options.policy?.gracePeriodDays ?? 0,
    trustedDays: options.policy?.trustedDays ?? 30,
    signIn: options.policy?.signIn ?? false,
  } as const;
  const rules = demoRules(policy, maxAge);
  const policyLine = describePolicy(policy);
  const decide = options.policy?.decide;
  const admins = options.admins ?? [];

  const stepup = stepUp({
    store: options.store,
    secret: options.stepupSecret,
    appName: "Stepup demo",
    getUser: (req) => (req.user ? { id: req.user.id, email: req.user.email } : null),
    factors: [
      totp(),
      ...(passkeys ? [passkeys] : []),
      email(senders.email),
      sms(senders.sms),
      recoveryCodes(),
    ],
    // A signed-out browser goes to the home page's login form, and back after it.
    signInUrl: "/",
    // STEPUP_POLICY and friends: the level, the grace period, trusted devices, risk triggers.
    policy: { ...stepupPolicy(policy), ...(decide ? { decide } : {}) },
    rules,
    // The admin API (/stepup/admin/users/:id): ADMIN_EMAILS, each with a fresh step-up of their own.
    // findUser gives the reset notice its address (stepup's user id is the demo user's id).
    authorizeAdmin: (user) => isAdmin(admins, user.email),
    findUser: async (id) => {
      const user = await users.findById(id);
      return user ? { id: user.id, email: user.email } : undefined;
    },
    // Step-up tokens: POST /stepup/api/token, /stepup/.well-known/jwks.json, and bearer use on the guards.
    tokens: demoTokens(origin ?? "http://localhost", options.tokenKey ?? DEV_TOKEN_KEY),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    // WEBHOOK_URL / WEBHOOK_SECRET: every event (and /transfer's track events) POSTed signed.
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(express.urlencoded({ extended: false, limit: "64kb" }), express.json({ limit: "64kb" }));
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const s = await session(req, res);
    if (s.userId && s.email) req.user = { id: s.userId, email: s.email };
    next();
  });
  app.use("/stepup", stepup.router);

  app.get("/", (req, res) => {
    res.type("html").send(homePage(req.user?.email, undefined, returnTo(req), policyLine));
  });
  app.post("/signup", async (req, res) => {
    const c = credentials(req);
    const email = emailOf(req);
    if (!c) {
      const detail = "Give an email and a password of 8+ characters.";
      return reply(
        req,
        res,
        400,
        { error: "invalid_input", detail },
        { form: "signup", message: detail, email },
      );
    }
    const user = await users.signup(c.email, c.password);
    if (!user) {
      const message = "That email is already registered. Log in instead, or use another one.";
      return reply(req, res, 409, { error: "email_taken" }, { form: "signup", message, email });
    }
    await startSession(req, res, user);
    reply(req, res, 201, { id: user.id, email: user.email });
  });
  app.post("/login", async (req, res) => {
    const c = credentials(req);
    const user = c && (await users.login(c.email, c.password));
    if (!user) {
      const message = "That email and password do not match an account.";
      return reply(
        req,
        res,
        401,
        { error: "invalid_credentials" },
        { form: "login", message, email: emailOf(req) },
      );
    }
    // STEPUP_SIGNIN=1: a user with a second factor proves it before the session starts. stepup
    // answers (the challenge page, or 401 step_up_required for JSON) and sends them to
    // /login/complete after; `false` means no second factor is due: log in now.
    if (policy.signIn) {
      const back = returnTo(req);
      const target =
        back === "/" ? "/login/complete" : `/login/complete?returnTo=${encodeURIComponent(back)}`;
      if (await stepup.beginSignIn(req, res, user.id, { returnTo: target })) return;
    }
    await startSession(req, res, user);
    reply(req, res, 200, { id: user.id, email: user.email });
  });
  // After the sign-in challenge: the browser comes back here (GET); a JSON client POSTs. Once only,
  // and only in the browser that verified.
  const completeSignIn = async (req: Request, res: Response) => {
    const userId = policy.signIn ? await stepup.completeSignIn(req, res) : null;
    const user = userId ? await users.findById(userId) : undefined;
    const json = req.method === "POST" && !req.is("application/x-www-form-urlencoded");
    if (!user) {
      if (json) return void res.status(401).json({ error: "sign_in_incomplete" });
      const message = "That sign-in was not completed (or was already used). Log in again.";
      return void res
        .status(401)
        .type("html")
        .send(homePage(undefined, { form: "login", message }));
    }
    await startSession(req, res, user);
    if (json) return void res.json({ signedIn: true, id: user.id, email: user.email });
    res.redirect(303, returnTo(req));
  };
  app.get("/login/complete", completeSignIn);
  app.post("/login/complete", completeSignIn);

  // Changing the password is a credential change: stepup ends every step-up and trusted device of
  // the user on every process, and (RISK_BASED) asks for a second factor again.
  app.post("/password", async (req, res) => {
    if (!req.user) return void res.status(401).json({ error: "unauthenticated" });
    const email = req.user.email;
    const page = (error: FormError) => homePage(email, error, "/", policyLine);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { password, newPassword } = body;
    if (
      typeof password !== "string" ||
      typeof newPassword !== "string" ||
      newPassword.length < 8 ||
      newPassword.length > 200
    ) {
      const detail = "Give your current password and a new one of 8+ characters.";
      return reply(
        req,
        res,
        400,
        { error: "invalid_input", detail },
        { form: "password", message: detail },
        page,
      );
    }
    const user = await users.changePassword(req.user.email, password, newPassword);
    if (!user) {
      const message = "That is not your current password.";
      return reply(req, res, 403, { error: "invalid_credentials" }, { form: "password", message }, page);
    }
    await stepup.http.engine.markCredentialChange(user.id);
    reply(req, res, 200, { changed: true });
  });
  app.post("/logout", async (req, res) => {
    // End the app's own session first: logging out must work even while the store is down.
    (await session(req, res)).destroy();
    await stepup.clear(req, res);
    reply(req, res, 200, { ok: true });
  });

  app.get(
    "/admin",
    // A trusted device ("Remember this device") passes: see demoRules.
    stepup.requireStepUp({ resource: "admin", action: "read", ...rules["admin:read"] }),
    (req, res) => {
      res.type("html").send(resultPage("Admin panel", passLine(req.stepUp)));
    },
  );
  // Look a user up and reset, revoke or unlock them: the page calls the admin API from the browser
  // (stepUpFetch), so it holds no user data itself; the API checks the administrator and their step-up.
  app.get("/admin/users", async (req, res) => {
    res.set("cache-control", "no-store");
    if (!req.user) return void res.redirect(303, `/?returnTo=${encodeURIComponent(req.originalUrl)}`);
    if (!isAdmin(admins, req.user.email)) return void res.status(403).type("html").send(adminForbiddenPage());
    const raw = req.query.user;
    const query = typeof raw === "string" ? raw.trim().slice(0, 256) : "";
    const found = query === "" ? undefined : await users.lookup(query);
    res.type("html").send(adminUsersPage(query, found && { id: found.id, email: found.email }));
  });
  app.post(
    "/account/delete",
    stepup.requireStepUp({ resource: "account", action: "delete", ...rules["account:delete"] }),
    (req, res) => {
      res.json({ deleted: true, verifiedAt: req.stepUp?.verifiedAt });
    },
  );
  app.get(
    "/api/export",
    // A script with only a step-up token (no cookies) is signed in by it here: see userFromStepUpToken.
    async (req: Request, _res: Response, next: NextFunction) => {
      try {
        if (!req.user) {
          const user = await userFromStepUpToken(
            stepup.http.engine,
            req.get("authorization"),
            users.findById,
            ["data:export"],
          );
          if (user) req.user = { id: user.id, email: user.email };
        }
        next();
      } catch (error) {
        next(error);
      }
    },
    stepup.requireStepUp({ resource: "data", action: "export", ...rules["data:export"] }),
    async (req, res) => {
      // The app's own sensitive action, in the audit log (not sent to webhooks).
      await stepup.track(req, { tag: "data.exported" });
      res.json({ user: req.user?.email, exportedAt: new Date().toISOString(), records: [] });
    },
  );
  app.post(
    "/transfer",
    stepup.requireStepUp({
      resource: "payment",
      action: "transfer",
      // Over 1000 always asks; see demoRules for the rest.
      ...rules["payment:transfer"],
      // Typed values: a grant for 100 to alice pays exactly that ("100" and 100 alike, never ["100"]).
      transaction: (req) => parseTransfer(req.body),
      describe: (req) => describeTransfer(parseTransfer(req.body)),
    }),
    async (req, res) => {
      const transfer = parseTransfer(req.body);
      // The app's own sensitive action: in the audit log, and POSTed to the webhooks.
      await stepup.track(
        req,
        { tag: "transfer.sent", severity: "high", metadata: { amount: transfer.amount } },
        { webhook: true },
      );
      res.json({ transferred: true, ...transfer });
    },
  );
  if (passkeys) {
    // Only a passkey or security key will do here: codes can be phished, WebAuthn cannot.
    app.get(
      "/admin/security",
      stepup.requireStepUp({
        resource: "security",
        action: "manage",
        label: "change your security settings",
        maxAge: maxAge(300),
        level: "phishing-resistant",
        match: "action",
      }),
      (req, res) => {
        const at = new Date(req.stepUp?.verifiedAt ?? 0).toISOString();
        res.type("html").send(resultPage("Security settings", `Verified with a passkey at ${at}.`));
      },
    );
    // And here the authenticator must also verify the user (PIN or biometric), not only their presence.
    app.get(
      "/vault",
      stepup.requireStepUp({
        resource: "vault",
        action: "open",
        label: "open the vault",
        maxAge: maxAge(300),
        level: "phishing-resistant",
        userVerification: "required",
        match: "action",
      }),
      (_req, res) => {
        res.type("html").send(resultPage("Vault open", "Verified with a passkey that checked it was you."));
      },
    );
  }
  app.use(stepup.errorHandler);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof StepUpError && error.code === "STORE_UNAVAILABLE") {
      return void res.status(503).json({ error: "store_unavailable" });
    }
    const status = (error as { status?: number })?.status;
    if (typeof status === "number" && status >= 400 && status < 500)
      return void res.status(status).json({ error: "bad_request" });
    console.error("demo: unhandled error", error instanceof Error ? error.message : error);
    res.status(500).json({ error: "internal_error" });
  });
  return Object.assign(app, { closeStepUp: () => stepup.http.engine.close() });
}
