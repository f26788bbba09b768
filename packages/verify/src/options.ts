import type { JSONWebKeySet } from "jose";
import type { ReplayCache } from "./replay.js";

/** What the checks of one token need beyond the verifier's own options (all optional there). */
export interface StepUpCheck {
  /** The rule's resource: `scope` must be `${resource}:${action}`. */
  resource?: string;
  /** The rule's action. */
  action?: string;
  /** The step-up must be at most this many seconds old (`auth_time`). */
  maxAge?: number;
  /** The transaction digest this request carries: the token's `txn` must equal it. */
  txn?: string;
}

/** Options of {@link createStepUpVerifier}: where the keys are, whom to trust, and what to require. */
export interface StepUpVerifierOptions {
  /**
   * The issuer's JWKS address, e.g. `https://app.example.com/stepup/.well-known/jwks.json`: fetched
   * on first use, cached (10 minutes; an unknown `kid` refetches at most every 30 s). `https:`
   * only, apart from loopback hosts. Give this or `jwks`.
   */
  jwksUrl?: string | URL;
  /** The issuer's key set itself (`{ keys: [...] }`), when you ship it with the service. */
  jwks?: JSONWebKeySet;
  /** How long one JWKS fetch may take, in milliseconds (whole, 1 to 30000). @default 5000 */
  jwksTimeoutMs?: number;
  /** The expected `iss` (stepup's `tokens.issuer`). */
  issuer: string;
  /** The expected `aud`: this service's name, one of stepup's `tokens.audience`. */
  audience: string | readonly string[];
  /** The default resource to require (or give it per call). */
  resource?: string;
  /** The default action to require (or give it per call). */
  action?: string;
  /** The default freshness in seconds (whole, at least 1): `auth_time` at most this old. */
  maxAge?: number;
  /** Seconds of clock skew allowed on `exp`, `nbf`, `iat` and `auth_time` (whole, 0 to 60). @default 5 */
  clockTolerance?: number;
  /** Single use by `jti`: {@link memoryReplayCache} for one process, a shared cache for many. */
  replay?: ReplayCache;
  /** Injectable time (tests): milliseconds since the epoch. */
  clock?: { now(): number };
}

/** Options of {@link verifyStepUpToken}: a verifier's options and one token's checks. */
export interface VerifyStepUpTokenOptions extends StepUpVerifierOptions {
  resource: string;
  action: string;
  /** The transaction digest this request carries (a transaction rule). */
  txn?: string;
}

export interface ResolvedOptions {
  jwksUrl: URL | undefined;
  jwks: JSONWebKeySet | undefined;
  jwksTimeoutMs: number;
  issuer: string;
  audience: string[];
  check: StepUpCheck;
  clockTolerance: number;
  replay: ReplayCache | undefined;
  clock: { now(): number };
}

const PREFIX = "@stepup/verify: option";

function bad(option: string, what: string): TypeError {
  return new TypeError(`${PREFIX} \`${option}\` ${what}`);
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** Validates one token's checks (the verifier's defaults or a call's), naming a bad option. */
export function resolveCheck(input: StepUpCheck, where = ""): StepUpCheck {
  if (typeof input !== "object" || input === null) throw bad(where || "check", "must be an object");
  const { resource, action, maxAge, txn } = input;
  if (resource !== undefined && (!nonEmpty(resource) || resource.includes(":")))
    throw bad(`${where}resource`, "must be a non-empty string without `:`");
  if (action !== undefined && !nonEmpty(action)) throw bad(`${where}action`, "must be a non-empty string");
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 1))
    throw bad(`${where}maxAge`, "must be a whole number of seconds, at least 1");
  if (txn !== undefined && !nonEmpty(txn)) throw bad(`${where}txn`, "must be a non-empty string");
  return { resource, action, maxAge, txn };
}

/** Validates a verifier's options once, naming the first bad one. */
export function resolveOptions(input: StepUpVerifierOptions): ResolvedOptions {
  if (typeof input !== "object" || input === null)
    throw new TypeError("@stepup/verify: options must be an object");
  const { jwksUrl, jwks } = input;
  if ((jwksUrl === undefined) === (jwks === undefined))
    throw bad("jwksUrl", "or `jwks` is required (exactly one of them)");
  let url: URL | undefined;
  if (jwksUrl !== undefined) {
    try {
      url = new URL(jwksUrl);
    } catch {
      throw bad("jwksUrl", "must be an absolute URL");
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname)))
      throw bad("jwksUrl", "must be an https: URL (http: only for localhost)");
  }
  if (
    jwks !== undefined &&
    (typeof jwks !== "object" || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0)
  )
    throw bad("jwks", "must be a key set with at least one key: { keys: [...] }");
  const jwksTimeoutMs = input.jwksTimeoutMs ?? 5000;
  if (!Number.isInteger(jwksTimeoutMs) || jwksTimeoutMs < 1 || jwksTimeoutMs > 30_000)
    throw bad("jwksTimeoutMs", "must be a whole number of milliseconds from 1 to 30000");
  if (!nonEmpty(input.issuer)) throw bad("issuer", "must be a non-empty string (stepup's tokens.issuer)");
  const aud = input.audience;
  if (!nonEmpty(aud) && !(Array.isArray(aud) && aud.length > 0 && aud.every(nonEmpty)))
    throw bad("audience", "must be a non-empty string or list of strings");
  const clockTolerance = input.clockTolerance ?? 5;
  if (!Number.isInteger(clockTolerance) || clockTolerance < 0 || clockTolerance > 60)
    throw bad("clockTolerance", "must be a whole number of seconds from 0 to 60");
  const replay = input.replay;
  if (
    replay !== undefined &&
    (typeof replay !== "object" || replay === null || typeof replay.seen !== "function")
  )
    throw bad("replay", "must have a seen(jti, expiresAtSeconds) method (e.g. memoryReplayCache())");
  const clock = input.clock ?? Date;
  if (typeof clock !== "object" && typeof clock !== "function")
    throw bad("clock", "must have a now() method");
  if (typeof clock.now !== "function") throw bad("clock", "must have a now() method");
  return {
    jwksUrl: url,
    jwks,
    jwksTimeoutMs,
    issuer: input.issuer,
    audience: typeof aud === "string" ? [aud] : [...(aud as readonly string[])],
    check: resolveCheck(input),
    clockTolerance,
    replay,
    clock,
  };
}
