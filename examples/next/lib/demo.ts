import { email, memoryStore, recoveryCodes, type Store, sms, totp, webauthn } from "@stepup/core";
import {
  adminsFromEnv,
  createUsers,
  DEV_TOKEN_KEY,
  type DemoPolicy,
  demoRules,
  demoTokens,
  describePolicy,
  isAdmin,
  policyFromEnv,
  redisConfigFromEnv,
  sendersFromEnv,
  stepupPolicy,
  userFromStepUpToken,
  webhooksFromEnv,
} from "@stepup/example-shared";
import { demoRedis } from "@stepup/example-shared/redis";
import { createStepUp, type NextStepUp } from "@stepup/next";
import { type SessionOptions, unsealData } from "iron-session";

/** The demo's own login session ("your existing auth"), in its iron-session cookie `demo_session`. */
export interface DemoSession {
  userId?: string;
  email?: string;
}

interface Demo {
  store: Store;
  users: ReturnType<typeof createUsers>;
  stepup: NextStepUp;
  sessionOptions: SessionOptions;
  /** Every rule's maxAge, or STEPUP_MAX_AGE when set. */
  maxAge(seconds: number): number;
  /** STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN (scripts/start.mjs checks them first). */
  policy: DemoPolicy;
  /** The policy in words, for the home page. */
  policyLine: string;
  /** The demo's rules (the same as the Express demo's): the guards spread them. */
  rules: ReturnType<typeof demoRules>;
  /** ADMIN_EMAILS, lower-cased: who may open /admin/users and the admin API. */
  admins: readonly string[];
  /** The user of a request with only a step-up token for `data:export` (no session cookie). */
  bearerUser(request: Request): Promise<{ id: string; email: string } | undefined>;
}

const BUILDING = process.env.NEXT_PHASE === "phase-production-build";

function secret(name: "SESSION_SECRET" | "STEPUP_SECRET" | "STEPUP_TOKEN_KEY"): string {
  const value = process.env[name];
  if (value) return name === "STEPUP_TOKEN_KEY" ? value.replace(/\\n/g, "\n") : value;
  // `next build` loads route modules without serving anything: no secret is needed then.
  if (BUILDING)
    return name === "STEPUP_TOKEN_KEY" ? DEV_TOKEN_KEY : "build-time-placeholder-never-used-0123456789";
  // scripts/start.mjs (pnpm demo:next) sets the development fallbacks, or refuses under production.
  throw new Error(`demo: ${name} is not set (start the demo with \`pnpm demo:next\`)`);
}

/**
 * The exact origin browsers use for the demo (scheme, host and port): passkeys are bound to it.
 * STEPUP_ORIGIN, else `http://localhost:$PORT` (scripts/start.mjs passes the port it serves on).
 */
function originFromEnv(): string {
  // `next build` serves nothing, and its PORT is not the one `next start` will get: a fixed valid
  // origin keeps the build independent of where the demo will run.
  if (BUILDING) return "http://localhost:3000";
  const origin = process.env.STEPUP_ORIGIN || `http://localhost:${process.env.PORT || 3000}`;
  if (!URL.canParse(origin))
    throw new Error(`demo: STEPUP_ORIGIN must be an origin such as http://localhost:3000, not "${origin}"`);
  return origin;
}

function maxAgeFromEnv(): number | undefined {
  const raw = process.env.STEPUP_MAX_AGE;
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error("demo: STEPUP_MAX_AGE must be a whole number >= 1");
  return value;
}

function create(): Demo {
  // REDIS_URL or REDIS_CLUSTER_NODES (scripts/start.mjs refuses a bad value first); the client's
  // options are in examples/shared/src/redis.ts. Neither, or `next build`: the memory store.
  const redisConfig = BUILDING ? undefined : redisConfigFromEnv(process.env);
  const store: Store = redisConfig ? demoRedis(redisConfig).store : memoryStore();
  const sessionOptions: SessionOptions = {
    password: secret("SESSION_SECRET"),
    cookieName: "demo_session",
    cookieOptions: { httpOnly: true, sameSite: "lax", secure: false },
  };
  const override = maxAgeFromEnv();
  const maxAge = (seconds: number) => override ?? seconds;
  const policy = policyFromEnv(process.env);
  const rules = demoRules(policy, maxAge);
  const origin = originFromEnv();
  // SMTP_URL / SMS_WEBHOOK_URL, as in the Express demo; unset, each code message is printed on one
  // line of the server's output. A set variable that is not a usable URL stops the demo, naming it.
  const senders = sendersFromEnv(process.env);
  // ADMIN_EMAILS, as in the Express demo (scripts/start.mjs checks it first).
  const admins = adminsFromEnv(process.env);
  // WEBHOOK_URL / WEBHOOK_SECRET, as in the Express demo (scripts/start.mjs checks them first).
  // `next build` sends nothing: no webhooks then.
  const webhooks = BUILDING ? undefined : webhooksFromEnv(process.env);
  if (!BUILDING)
    for (const note of [...senders.notes, ...policy.notes, ...admins.notes, ...(webhooks?.notes ?? [])])
      console.log(`  ${note}`);
  const users = createUsers(store);
  const stepup = createStepUp({
    store,
    secret: secret("STEPUP_SECRET"),
    appName: "Stepup demo (Next.js)",
    // webauthn() itself refuses an origin that is not exact or not secure, naming the option.
    factors: [
      totp(),
      webauthn({ rpID: new URL(origin).hostname, origins: [origin] }),
      email(senders.email),
      sms(senders.sms),
      recoveryCodes(),
    ],
    // A signed-out browser goes to the home page's login form, and back after it.
    signInUrl: "/",
    // STEPUP_POLICY and friends: the level, the grace period, trusted devices, risk triggers.
    policy: stepupPolicy(policy),
    // Declared once here, labels included; the guards spread the same options. account:delete has
    // two guards (the Server Action and the /account/delete route): both inherit it.
    rules,
    // Step-up tokens (POST /stepup/api/token, /stepup/.well-known/jwks.json, bearer use on the
    // guards), issued by the demo's origin for `stepup-demo`; STEPUP_TOKEN_KEY (scripts/start.mjs
    // sets the development key, or refuses under production).
    tokens: demoTokens(origin, secret("STEPUP_TOKEN_KEY")),
    // The admin API (/stepup/admin/users/:id): ADMIN_EMAILS, each with a fresh step-up of their own.
    // findUser gives the reset notice its address (stepup's user id is the demo user's id).
    authorizeAdmin: (user) => isAdmin(admins.emails, user.email),
    findUser: async (id) => {
      const user = await users.findById(id);
      return user ? { id: user.id, email: user.email } : undefined;
    },
    // Every event, and /transfer's track events, POSTed signed to WEBHOOK_URL (when set).
    ...(webhooks?.options ? { webhooks: webhooks.options } : {}),
    // Who is signed in: the demo's own session cookie, read straight from the request; for a
    // script with only a step-up token for /api/export, that token's user (userFromStepUpToken).
    getUser: async (request) => {
      const sealed = /(?:^|;\s*)demo_session=([^;]+)/.exec(request.headers.get("cookie") ?? "")?.[1];
      if (!sealed) return (await bearerUser(request)) ?? null;
      // A cookie that does not even decode (`%zz`) or is no seal is no session, not a 500.
      const s = await (async () =>
        unsealData<DemoSession>(decodeURIComponent(sealed), { password: sessionOptions.password }))().catch(
        () => ({}) as DemoSession,
      );
      return s.userId && s.email ? { id: s.userId, email: s.email } : null;
    },
    onEvent: (event) =>
      console.log(
        `stepup event: ${event.type} user=${event.userId}${event.metadata?.reason ? ` reason=${event.metadata.reason}` : ""}`,
      ),
  });
  // Only /api/export takes a bearer-only caller; `stepup.http` is built on first use, after this.
  const bearerUser = async (request: Request) => {
    // Nowhere else: the token proves a step-up for this route, not a sign-in to the rest of the app.
    if (new URL(request.url).pathname !== "/api/export") return undefined;
    const user = await userFromStepUpToken(
      stepup.http.engine,
      request.headers.get("authorization"),
      users.findById,
      ["data:export"],
    );
    return user ? { id: user.id, email: user.email } : undefined;
  };
  return {
    store,
    users,
    admins: admins.emails,
    bearerUser,
    stepup,
    sessionOptions,
    maxAge,
    policy,
    policyLine: describePolicy(policy),
    rules,
  };
}

// One instance per process, even if Next loads this module in several route bundles: the memory
// store and the guard's caches must be shared by every route.
const slot = globalThis as typeof globalThis & { __stepupNextDemo?: Demo };

/** The demo's singletons: store, users, stepup. */
export function demo(): Demo {
  slot.__stepupNextDemo ??= create();
  return slot.__stepupNextDemo;
}
