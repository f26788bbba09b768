// The benchmark's apps, one per scenario. Every scenario is the same Express 5 skeleton (x-powered-by
// off, JSON body parser) with a toy login at POST /login and the measured route at GET /r, which
// answers 200 `{ ok, user }`.
//
//   bare              GET /r -> json. The ceiling: Express and HTTP alone.
//   redis-get         one Redis GET of a fixed key per request, then json.
//   get-middleware    the same GET in a middleware before the route, as a guard would do it: it
//                     sets `req.stepUp` and calls next(). What any guard middleware pays in Express
//                     beyond the one-GET route (the layer, a property added to the request, a
//                     promise step); informational: stepup's own cost is `stepup` against this.
//   session-baseline  express-session + connect-redis on the same Redis, and the sudo check users
//                     write by hand: `req.session.mfaVerifiedAt` recent enough, else 401.
//   stepup            requireStepUp({ resource: "admin", action: "read", maxAge: 900 }) on a Redis
//                     store; the user comes from a stateless toy cookie (`bench_user`).
//   stepup-session    the same guard, but the app's own login is the express-session of the
//                     baseline (what an app gets when it swaps its hand-written check for stepup).
//   stepup-cached     `stepup` with the store's client-side cache (Redis CLIENT TRACKING): a fresh
//                     pass reads the session from memory, kept coherent by Redis invalidations.
//   stepup-webhooks   `stepup` with webhooks configured (a receiver in the runner): a fresh pass
//                     records nothing, so this must cost what `stepup` costs.
//   stepup-track      `stepup-webhooks`, and the route records one event per request with
//                     `track(req, ..., { webhook: true })` (audit chain + outbox, delivered by the
//                     worker in the same process): the price of an audited action. Informational.
//
// Session library choice: connect-redis 7.1.1, the last major that accepts an ioredis client
// (8.x and later take only node-redis, `redis` >= 5). Keeping ioredis 6 everywhere means every
// Redis scenario uses the same client, so the comparison is about the layer above it.
import { totp } from "@stepup/core";
import { stepUp } from "@stepup/express";
import { redisStore } from "@stepup/redis";
import RedisStore from "connect-redis";
import express from "express";
import session from "express-session";

export const SCENARIOS = [
  "bare",
  "redis-get",
  "get-middleware",
  "session-baseline",
  "stepup",
  "stepup-session",
  "stepup-cached",
  "stepup-webhooks",
  "stepup-track",
];
/** The webhook receiver's URL and secret (the runner starts the receiver and sets them). */
const WEBHOOKS = () => {
  const url = process.env.STEPUP_BENCH_WEBHOOK_URL;
  const secret = process.env.STEPUP_BENCH_WEBHOOK_SECRET;
  if (!url || !secret) throw new Error("bench: STEPUP_BENCH_WEBHOOK_URL and _SECRET are not set");
  return { endpoints: [{ url, secret }], worker: process.env.STEPUP_BENCH_WEBHOOK_WORKER !== "0" };
};
export const USER_COOKIE = "bench_user";
const SESSION_SECRET = "bench-session-secret-0123456789abcdef";
const STEPUP_SECRET = "bench-stepup-secret-0123456789abcdefghij";
const MFA_MAX_AGE_MS = 900_000;

/**
 * The toy stateless login: `bench_user=<id>` (stands for auth resolved without a store). As cheap as
 * a cookie lookup gets (no split, no trim: one or two indexOf): the benchmark measures the guard,
 * not this stand-in for the app's own login. Cookie headers separate pairs with "; " (RFC 6265).
 */
const USER_PREFIX = `${USER_COOKIE}=`;
export function toyUser(req) {
  const header = req.headers.cookie;
  if (!header) return null;
  let at = header.startsWith(USER_PREFIX) ? 0 : header.indexOf(`; ${USER_PREFIX}`);
  if (at === -1) return null;
  if (at > 0) at += 2;
  const start = at + USER_PREFIX.length;
  const end = header.indexOf(";", start);
  const id = end === -1 ? header.slice(start) : header.slice(start, end);
  return id ? { id } : null;
}

function expressSession(client) {
  return session({
    // The documented settings users copy: no resave, no empty sessions. express-session then
    // touches the store (EXPIRE) on every request that did not change the session.
    store: new RedisStore({ client, prefix: "bench:sess:" }),
    secret: SESSION_SECRET,
    name: "sid",
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", secure: false, maxAge: 86_400_000 },
  });
}

/**
 * The app of one scenario. `client` is an ioredis client (unused by `bare`); `store` overrides the
 * stepup store (profiling the pieces with memoryStore()). Also returns the stepup object, if any.
 */
export async function createApp(scenario, { client, store } = {}) {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "64kb" }));
  let stepup;

  if (scenario === "bare") {
    app.get("/r", (_req, res) => {
      res.json({ ok: true, user: null });
    });
  } else if (scenario === "redis-get") {
    await client.set("bench:key", JSON.stringify({ uid: "alice", verifiedAt: Date.now() }));
    app.get("/r", async (_req, res) => {
      const value = await client.get("bench:key");
      if (value === null) return void res.status(500).json({ error: "missing key" });
      res.json({ ok: true, user: null });
    });
  } else if (scenario === "get-middleware") {
    await client.set("bench:key", JSON.stringify({ uid: "alice", verifiedAt: Date.now() }));
    const guard = (req, res, next) => {
      client.get("bench:key").then((value) => {
        if (value === null) return void res.status(401).json({ error: "missing key" });
        req.stepUp = value;
        next();
      }, next);
    };
    // The handler of the stepup scenarios.
    app.get("/r", guard, async (req, res) => {
      if (!req.stepUp) return void res.status(500).json({ error: "no stepUp" });
      res.json({ ok: true, user: null });
    });
  } else if (scenario === "session-baseline") {
    app.use(expressSession(client));
    app.post("/login", (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.userId = String(req.body?.user ?? "");
        res.json({ ok: true });
      });
    });
    // Where a real app checks a TOTP code; the hot path below only reads the timestamp.
    app.post("/mfa", (req, res) => {
      if (!req.session.userId) return void res.status(401).json({ error: "unauthenticated" });
      req.session.mfaVerifiedAt = Date.now();
      res.json({ ok: true });
    });
    // The hand-written sudo check.
    const requireMfa = (req, res, next) => {
      if (!req.session.userId) return void res.status(401).json({ error: "unauthenticated" });
      const at = req.session.mfaVerifiedAt;
      if (typeof at !== "number" || Date.now() - at > MFA_MAX_AGE_MS) {
        return void res.status(401).json({ error: "mfa_required" });
      }
      next();
    };
    app.get("/r", requireMfa, (req, res) => {
      res.json({ ok: true, user: req.session.userId });
    });
  } else if (scenario.startsWith("stepup")) {
    const withSession = scenario === "stepup-session";
    const tracked = scenario === "stepup-track";
    if (withSession) app.use(expressSession(client));
    stepup = stepUp({
      store:
        store ??
        redisStore({
          client,
          keyPrefix: "bench:stepup",
          ...(scenario === "stepup-cached"
            ? { cache: { subscriber: client.duplicate({ protocol: 2, autoResubscribe: false }) } }
            : {}),
        }),
      secret: STEPUP_SECRET,
      appName: "stepup bench",
      getUser: withSession
        ? (req) => (req.session.userId ? { id: req.session.userId } : null)
        : (req) => toyUser(req),
      factors: [totp()],
      // Plain http on loopback: the cookie cannot be `__Host-`. Read by its name without building
      // the request URL, as the `__Host-` cookie is read in production (with `secure` unset, the
      // URL would be built on every request to check that it is localhost).
      cookie: { secure: false },
      ...(scenario === "stepup-webhooks" || tracked ? { webhooks: WEBHOOKS() } : {}),
    });
    app.post("/login", (req, res, next) => {
      const user = String(req.body?.user ?? "");
      if (!withSession) {
        res.cookie(USER_COOKIE, user, { httpOnly: true, sameSite: "lax" });
        return void res.json({ ok: true });
      }
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.userId = user;
        res.json({ ok: true });
      });
    });
    app.use("/stepup", stepup.router);
    app.get(
      "/r",
      stepup.requireStepUp({ resource: "admin", action: "read", maxAge: 900 }),
      async (req, res, next) => {
        if (!req.stepUp) return void res.status(500).json({ error: "no stepUp" });
        if (tracked) {
          try {
            await stepup.track(req, { tag: "bench.read" }, { webhook: true });
          } catch (error) {
            return void next(error);
          }
        }
        // The one-GET route's body; the session scenario reads its user as the baseline does (the toy
        // login's user was read once already, by getUser).
        res.json({ ok: true, user: withSession ? req.session.userId : null });
      },
    );
    app.use(stepup.errorHandler);
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }

  app.use((error, _req, res, _next) => {
    console.error("bench server: unhandled error", error);
    res.status(500).json({ error: "internal_error" });
  });
  return { app, stepup };
}
