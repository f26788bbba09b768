import type {
  ChallengeOffer,
  OpenedChallenge,
  Rule,
  StepUpDecision,
  StepUpTokenClaims,
  StepUpUser,
} from "@stepup/core";
import { StepUpError } from "@stepup/core";
import type { HttpContext, RequestContext } from "../http-context.js";
import type { CookieToSet } from "../internal/cookies.js";
import { crossOriginWrite, safeReturnTo } from "../security.js";
import type { CookieSession } from "../session-cookie.js";

/** What a protected handler may read about the step-up that let it run (frozen: requests of one session share it). */
export interface StepUpInfo {
  /** When the second factor was proved (ISO 8601); `null` when a policy waived the step-up. */
  readonly verifiedAt: string | null;
  /** When that proof stops counting for this rule (ISO 8601); `null` when waived. */
  readonly expiresAt: string | null;
  readonly factor: string | null;
  readonly level: string | null;
  /** RFC 8176 method references of the proof (`["otp"]`, `["hwk"]`). */
  readonly amr: readonly string[];
  readonly resource: string;
  readonly action: string;
  /**
   * The deadline to set up two-step verification by (ISO 8601), while a `REQUIRED` policy's grace
   * period lets a user with no factor pass; also sent as the `Stepup-Enroll-By` header. `null` otherwise.
   */
  readonly enrollBy: string | null;
}

/** The response header that carries `StepUpInfo.enrollBy` on a guarded response within a grace period. */
export const ENROLL_BY_HEADER = "Stepup-Enroll-By";

/** What a `when` trigger and the policy hook see of a request (`TriggerContext.details`). */
export type GuardDetails = Readonly<Record<string, unknown>>;

/** Extra inputs of one guarded request. */
export interface GuardInput {
  /** Transaction digest for `match: "transaction"` rules. */
  txn?: string;
  /** What is being approved, in words (a transaction rule's `describe`). */
  description?: string;
  /** The original urlencoded form fields, for re-submission after a step-up. */
  form?: readonly (readonly [string, string])[];
  /**
   * The request's details for `when` triggers and the policy hook (a transaction's `{ amount, to }`).
   * A function is called only when the rule's policy will read them.
   */
  details?: GuardDetails | (() => GuardDetails | Promise<GuardDetails>);
}

/** The parts of a request the guard reads (a Fetch `Request` fits; adapters may pass a light view). */
export interface GuardRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

/**
 * What a guard run comes to, as data: the edge renders it (`renderGuard`) or, for a Server Action,
 * returns it as a value. Cookies are data too (`cookies`), written by whoever answers.
 */
export type GuardOutcome =
  /** Fresh enough (or waived by policy): run the handler. */
  | { kind: "pass"; stepUp: StepUpInfo }
  /** A challenge was opened for this request; `cookies` may hold a new step-up session. */
  | { kind: "step-up-required"; rule: Rule; opened: OpenedChallenge; cookies: CookieToSet[] }
  /** Nothing can be tried now: locked after too many failures, for good or for `retryAfter` s. */
  | { kind: "locked"; rule: Rule; userLocked: boolean; retryAfter: number }
  /** The policy refused the action. */
  | { kind: "blocked"; rule: Rule }
  /** The user has no factor this rule accepts and its policy denies them (`noFactor: "deny"`): enrol first. */
  | { kind: "enrollment-required"; rule: Rule }
  /** Refused before the engine was asked, or it failed: no user, cross-origin, store down, ... */
  | { kind: "error"; error: unknown };

const NO_INPUT: GuardInput = Object.freeze({});
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Where to come back to after the step-up. A request path like `//evil.example/x` is a valid path
 * on our origin but a protocol-relative URL to a browser: such paths go home instead.
 */
export function relativeUrl(url: URL): string {
  return safeReturnTo(url.pathname + url.search, url) ?? "/";
}

/**
 * ISO 8601 of a time, memoized: on the hot path every request of a session reports the same
 * `verifiedAt`, and formatting a date costs more than the lookup.
 */
const isoCache = new Map<number, string>();
/** Entries of the ISO memo before it is emptied. */
export const ISO_CACHE_LIMIT = 4096;
/** How many entries the ISO memo holds now (its bound's test fills it). */
export const isoCacheSize = (): number => isoCache.size;
export function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= ISO_CACHE_LIMIT) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
}

function info(decision: StepUpDecision, rule: Rule): StepUpInfo {
  if (decision.outcome !== "allow") {
    const enrollByMs = decision.outcome === "waived" ? decision.enrollByMs : undefined;
    return {
      verifiedAt: null,
      expiresAt: null,
      factor: null,
      level: null,
      amr: [],
      resource: rule.resource,
      action: rule.action,
      enrollBy: enrollByMs === undefined ? null : iso(enrollByMs),
    };
  }
  const a = decision.assurance;
  return {
    verifiedAt: iso(decision.verifiedAtMs),
    expiresAt: iso(decision.expiresAtMs),
    factor: a.factor,
    level: a.level,
    amr: a.amr,
    resource: rule.resource,
    action: rule.action,
    enrollBy: null,
  };
}

/** What a handler reads after a step-up token let the request in: the token's own claims. */
function tokenInfo(claims: StepUpTokenClaims, rule: Rule): StepUpInfo {
  const verifiedMs = claims.auth_time * 1000;
  return {
    verifiedAt: iso(verifiedMs),
    // The token ends at `exp`, the proof at `auth_time + maxAge`: whichever comes first.
    expiresAt: iso(Math.min(claims.exp * 1000, verifiedMs + rule.maxAge * 1000)),
    // A token names the methods (`amr`), not which of the user's factors it was.
    factor: null,
    level: claims.acr,
    amr: claims.amr,
    resource: rule.resource,
    action: rule.action,
    enrollBy: null,
  };
}

/** The credentials of an `Authorization: Bearer` header (RFC 6750 section 2.1), if it has one. */
export function bearerOf(request: GuardRequest): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * An app route's guard. With step-up tokens on, `Authorization: Bearer <step-up token>` for this
 * user and rule proves the step-up with no cookie (a service, a CLI, another tab's fetch); a
 * bearer that is not one (expired, another scope, an OAuth access token) falls through to the
 * cookie guard, whose 401 carries the RFC 9470 header. Not for stepup's own operations: their
 * engine checks the cookie's session itself, so a token must never stand in for it there.
 * Synchronous when the answer needs no await (see `runGuard`): await it either way.
 */
export function runRouteGuard(
  http: HttpContext,
  request: GuardRequest,
  ctx: RequestContext,
  rule: Rule,
  input: GuardInput = NO_INPUT,
): GuardOutcome | Promise<GuardOutcome> {
  // Tokens off: the header is not even read, and the cookie path is exactly what it was.
  if (http.engine.tokens.enabled && ctx.user) {
    const token = bearerOf(request);
    if (token !== undefined) return tokenGuard(http, request, ctx, ctx.user, rule, input, token);
  }
  return runGuard(http, request, ctx, rule, input);
}

async function tokenGuard(
  http: HttpContext,
  request: GuardRequest,
  ctx: RequestContext,
  user: StepUpUser,
  rule: Rule,
  input: GuardInput,
  token: string,
): Promise<GuardOutcome> {
  try {
    // The same-origin rule holds for a bearer too: the user still comes from the app's session.
    if (!SAFE_METHODS.has(request.method) && crossOriginWrite(request, http.trustedOrigins))
      throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
    const claims = await http.engine.tokens.accept(user, rule, token, input.txn);
    if (claims) {
      // A token proves the step-up, not that the action is allowed now: a risk hook's BLOCK
      // (an address or an amount it refuses) holds for bearers too.
      const hook = http.engine.config.policy.decide;
      if (hook) {
        const details = await detailsOf(input);
        const ip = ctx.ip;
        const verdict = await hook({
          user,
          rule,
          ...(ip ? { ip } : {}),
          ...(details ? { details } : {}),
        });
        if (verdict === "BLOCK") return { kind: "blocked", rule };
      }
      return { kind: "pass", stepUp: tokenInfo(claims, rule) };
    }
  } catch (error) {
    // The revocation check reads the store: down means refused, never let in.
    return { kind: "error", error };
  }
  return runGuard(http, request, ctx, rule, input);
}

/** The request's details, resolved and checked (an app's `details` returning a non-object is a bug). */
async function detailsOf(input: GuardInput): Promise<GuardDetails | undefined> {
  const given = input.details;
  if (given === undefined) return undefined;
  const value = typeof given === "function" ? await given() : given;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TypeError("stepup: option `details` must return an object, e.g. { amount: 100 }");
  return value;
}

/**
 * The guard: one question to the engine, answered as data. A state-changing request from another
 * origin is refused before anything is read, stored or run (a cross-site form must neither run
 * the handler with a fresh step-up nor be kept for re-submission from our own origin). Any store
 * failure ends as an error outcome, never a pass (fail closed), and nothing here throws.
 *
 * The hot path (a cached cookie, a fresh session) makes no promise of its own: the answer is
 * synchronous when the store's coherent cache holds the session, else the store's one round trip
 * and one step after it. Await it either way.
 */
export function runGuard(
  http: HttpContext,
  request: GuardRequest,
  ctx: RequestContext,
  rule: Rule,
  input: GuardInput = NO_INPUT,
): GuardOutcome | Promise<GuardOutcome> {
  const user = ctx.user;
  if (!user) return { kind: "error", error: new StepUpError("UNAUTHENTICATED", "Sign in first.") };
  try {
    if (!SAFE_METHODS.has(request.method) && crossOriginWrite(request, http.trustedOrigins)) {
      throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
    }
    const now = http.engine.now();
    const header = request.headers.get("cookie");
    const call: GuardCall = { http, request, ctx, user, rule, input, header };
    // A cache hit is synchronous: no await for the common case (the guard runs on every request).
    const peeked = http.cookie.peek(header, now, request);
    if (peeked === undefined) return unsealThenDecide(call, now);
    return decideFor(call, peeked);
  } catch (error) {
    return { kind: "error", error };
  }
}

/** One guarded request, as the steps after the first read it. */
interface GuardCall {
  http: HttpContext;
  request: GuardRequest;
  ctx: RequestContext;
  user: StepUpUser;
  rule: Rule;
  input: GuardInput;
  /** The request's Cookie header. */
  header: string | null;
}

/** A cookie the cache does not hold: unseal it (iron), then decide. */
async function unsealThenDecide(call: GuardCall, now: number): Promise<GuardOutcome> {
  try {
    const cookie = await call.http.cookie.read(call.header, now, call.request);
    return await decideFor(call, cookie);
  } catch (error) {
    return { kind: "error", error };
  }
}

/** Asks the engine for this user, session and rule; may throw (the caller turns it into an error outcome). */
function decideFor(
  call: GuardCall,
  cookie: CookieSession | null | undefined,
): GuardOutcome | Promise<GuardOutcome> {
  const { http, ctx, user, rule, input } = call;
  const sid = cookie && cookie.uid === user.id ? cookie.sid : undefined;
  // Only what this rule's policy can read: for a plain rule the fresh path computes neither the
  // client address (a getter: proxy-addr in Express) nor the device cookie, nor the app's details.
  const { triggers, mode } = rule.policy;
  const hook = http.engine.config.policy.decide !== undefined;
  const ip = hook || triggers.newIp || triggers.when || mode === "log-only" ? ctx.ip : undefined;
  const device =
    rule.allowTrustedDevice || triggers.newDevice ? http.device.read(call.header, call.request) : undefined;
  const txn = input.txn;
  if (hook || triggers.when) {
    return detailsOf(input).then((details) =>
      settle(call, sid, http.engine.decideNow({ user, sid, rule, txn, ip, device, details })),
    );
  }
  return settle(call, sid, http.engine.decideNow({ user, sid, rule, txn, ip, device }));
}

/** The outcome of a decision (or of a decision to come); failures become error outcomes. */
function settle(
  call: GuardCall,
  sid: string | undefined,
  decision: StepUpDecision | Promise<StepUpDecision>,
): GuardOutcome | Promise<GuardOutcome> {
  if (!(decision instanceof Promise)) return outcomeOf(call, sid, decision);
  return decision.then((d) => outcomeOf(call, sid, d), errorOutcome);
}

/** A failure as an outcome (one function for every request, not a closure each). */
function errorOutcome(error: unknown): GuardOutcome {
  return { kind: "error", error };
}

/**
 * Pass outcomes of allow decisions: the engine hands out one decision per session and rule while it
 * holds, so its pass (and `req.stepUp`) is the same object again, nothing allocated. One rule per
 * decision, so one info; a one-off decision's entry goes with it.
 */
const passes = new WeakMap<StepUpDecision, GuardOutcome>();

function outcomeOf(
  call: GuardCall,
  sid: string | undefined,
  decision: StepUpDecision,
): GuardOutcome | Promise<GuardOutcome> {
  const rule = call.rule;
  switch (decision.outcome) {
    case "allow": {
      let pass = passes.get(decision);
      if (pass === undefined) {
        pass = Object.freeze({ kind: "pass", stepUp: Object.freeze(info(decision, rule)) });
        passes.set(decision, pass);
      }
      return pass;
    }
    case "waived":
      return { kind: "pass", stepUp: info(decision, rule) };
    case "block":
      return { kind: "blocked", rule };
    case "enroll-required":
      return { kind: "enrollment-required", rule };
    case "locked":
      return { kind: "locked", rule, userLocked: decision.userLocked, retryAfter: decision.retryAfter };
    case "challenge":
      return openFor(call, sid, decision.offer).catch(errorOutcome);
  }
}

async function openFor(
  { http, request, user, rule, input }: GuardCall,
  currentSid: string | undefined,
  offer: ChallengeOffer,
): Promise<GuardOutcome> {
  const url = new URL(request.url);
  const sid = currentSid ?? http.engine.newSessionId();
  const isPost = request.method === "POST";
  const opened = await http.engine.openChallenge(
    user,
    sid,
    rule,
    {
      returnTo: relativeUrl(url),
      method: isPost ? "POST" : "GET",
      ...(isPost && input.form ? { form: input.form } : {}),
      ...(input.txn === undefined ? {} : { txn: input.txn }),
      ...(input.description === undefined ? {} : { description: input.description }),
    },
    offer,
  );
  const cookies = currentSid ? [] : [await http.cookie.create({ sid, uid: user.id }, url)];
  return { kind: "step-up-required", rule, opened, cookies };
}
