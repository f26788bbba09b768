import { email, recoveryCodes, StepUpError, type Store, sms, totp, webauthn } from "@stepup/core";
import { stepUp } from "@stepup/express";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { getIronSession, type SessionOptions } from "iron-session";
import "./demo-user.js";
import {
  createUsers,
  type DemoSenders,
  describeTransfer,
  parseTransfer,
  resultPage,
  sendersFromEnv,
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
}

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
  const value = (req.body as Record<string, unknown> | undefined)?.returnTo ?? req.query.returnTo;
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
): void {
  if (req.is("application/x-www-form-urlencoded")) {
    if (status < 400) return void res.redirect(303, returnTo(req));
    if (error)
      return void res
        .status(status)
        .type("html")
        .send(homePage(undefined, error, returnTo(req)));
  }
  res.status(status).json(body);
}

/** The email a failed form post carried, to fill back in (only when it is a plausible one). */
function emailOf(req: Request): string | undefined {
  const email = (req.body as Record<string, unknown> | undefined)?.email;
  return typeof email === "string" && email.length <= 254 ? email : undefined;
}

/** The Express demo: a toy login standing for "your existing auth", and routes guarded by stepup. */
export function createDemoApp(options: DemoOptions): Express {
  const users = createUsers(options.store);
  const sessionOptions: SessionOptions = {
    password: options.sessionSecret,
    cookieName: "demo_session",
    cookieOptions: { httpOnly: true, sameSite: "lax", secure: false },
  };
  const session = (req: Request, res: Response) => getIronSession<DemoSession>(req, res, sessionOptions);
  const maxAge = (seconds: number) => options.maxAge ?? seconds;
  const { origin } = options;
  const passkeys =
    origin === undefined
      ? undefined
      : webauthn({ rpID: options.rpID ?? new URL(origin).hostname, origins: [origin] });

  const senders = options.senders ?? sendersFromEnv({});

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
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
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
    res.type("html").send(homePage(req.user?.email, undefined, returnTo(req)));
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
    const s = await session(req, res);
    Object.assign(s, { userId: user.id, email: user.email });
    await s.save();
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
    const s = await session(req, res);
    Object.assign(s, { userId: user.id, email: user.email });
    await s.save();
    reply(req, res, 200, { id: user.id, email: user.email });
  });
  app.post("/logout", async (req, res) => {
    // End the app's own session first: logging out must work even while the store is down.
    (await session(req, res)).destroy();
    await stepup.clear(req, res);
    reply(req, res, 200, { ok: true });
  });

  app.get(
    "/admin",
    stepup.requireStepUp({
      resource: "admin",
      action: "read",
      label: "open the admin panel",
      maxAge: maxAge(900),
    }),
    (req, res) => {
      const at = new Date(req.stepUp?.verifiedAt ?? 0).toISOString();
      res.type("html").send(resultPage("Admin panel", `Verified at ${at}.`));
    },
  );
  app.post(
    "/account/delete",
    stepup.requireStepUp({
      resource: "account",
      action: "delete",
      label: "delete your account",
      maxAge: maxAge(300),
    }),
    (req, res) => {
      res.json({ deleted: true, verifiedAt: req.stepUp?.verifiedAt });
    },
  );
  app.get(
    "/api/export",
    stepup.requireStepUp({
      resource: "data",
      action: "export",
      label: "export your data",
      maxAge: maxAge(300),
    }),
    (req, res) => {
      res.json({ user: req.user?.email, exportedAt: new Date().toISOString(), records: [] });
    },
  );
  app.post(
    "/transfer",
    stepup.requireStepUp({
      resource: "payment",
      action: "transfer",
      label: "send money",
      maxAge: maxAge(300),
      match: "transaction",
      // Typed values: a grant for 100 to alice pays exactly that ("100" and 100 alike, never ["100"]).
      transaction: (req) => parseTransfer(req.body),
      describe: (req) => describeTransfer(parseTransfer(req.body)),
    }),
    (req, res) => {
      res.json({ transferred: true, ...parseTransfer(req.body) });
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
  return app;
}
