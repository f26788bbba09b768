import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type CryptoKey as JoseKey,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { StepUpTokenError } from "./errors.js";
import {
  type ResolvedOptions,
  resolveCheck,
  resolveOptions,
  type StepUpCheck,
  type StepUpVerifierOptions,
  type VerifyStepUpTokenOptions,
} from "./options.js";

/** The token header type stepup writes: a token of another kind (an ID token, an access token) is never one. */
export const STEP_UP_TOKEN_TYPE = "stepup+jwt";

/** Longer than any step-up token stepup mints: refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;

/** What a verified step-up token says (RFC 9068-style claims, RFC 8176 `amr`, RFC 9470 `acr`/`auth_time`). */
export interface StepUpTokenClaims {
  iss: string;
  aud: string | string[];
  /** The user's id in the issuing app. */
  sub: string;
  iat: number;
  exp: number;
  /** The token's id (single use with a `replay` cache). */
  jti: string;
  /** The step-up session family. */
  sid: string;
  /** When the user stepped up (Unix seconds). */
  auth_time: number;
  acr: "mfa" | "phishing-resistant";
  amr: string[];
  /** `resource:action`. */
  scope: string;
  /** The transaction digest, for a transaction rule. */
  txn?: string;
}

/** A verifier made once (its JWKS fetched and cached across calls). */
export interface StepUpVerifier {
  /**
   * Verifies a token (the bare JWT, without `Bearer `) and returns its claims; `check` adds to or
   * overrides the verifier's resource, action, maxAge, and gives this request's `txn`.
   * @throws StepUpTokenError with a stable `code` when the token is refused
   * @throws TypeError for a bad `check`, or when no resource/action is set at all
   */
  verify(token: string, check?: StepUpCheck): Promise<StepUpTokenClaims>;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<JoseKey>;

/** The key lookup of a verifier: the inline set, or the remote one (fetched, cached, refetched for a new kid). */
function keyResolver(o: Pick<ResolvedOptions, "jwks" | "jwksUrl" | "jwksTimeoutMs">): KeyResolver {
  const requireKid = (header: JWSHeaderParameters) => {
    if (typeof header.kid !== "string" || header.kid === "")
      throw fail("TOKEN_INVALID", "The token names no key (kid).");
  };
  if (o.jwks) {
    let local: KeyResolver;
    try {
      local = createLocalJWKSet(o.jwks);
    } catch (cause) {
      throw new TypeError("@stepup/verify: option `jwks` is not a valid key set", { cause });
    }
    return async (header, token) => {
      requireKid(header);
      return local(header, token);
    };
  }
  const remote = createRemoteJWKSet(o.jwksUrl as URL, { timeoutDuration: o.jwksTimeoutMs });
  const known = (kid: string) => (remote.jwks()?.keys ?? []).some((k) => k.kid === kid);
  return async (header, token) => {
    requireKid(header);
    // Fetch here (first use, cache expired, or a kid not seen yet and no fetch in the last 30 s)
    // so that a failure to fetch is told apart from a token's unknown kid.
    if (!remote.fresh || (!remote.coolingDown && !known(header.kid as string))) {
      try {
        await remote.reload();
      } catch (cause) {
        throw fail("JWKS_UNAVAILABLE", "The issuer's key set (JWKS) is unavailable.", cause);
      }
    }
    return remote(header, token);
  };
}

function fail(code: ConstructorParameters<typeof StepUpTokenError>[0], message: string, cause?: unknown) {
  return new StepUpTokenError(code, message, cause === undefined ? undefined : { cause });
}

/** A jose error as one of ours; anything unexpected is still a refusal (fail closed). */
function translate(error: unknown): StepUpTokenError {
  if (error instanceof StepUpTokenError) return error;
  if (error instanceof errors.JWTExpired) return fail("TOKEN_EXPIRED", "The step-up token expired.", error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return fail("WRONG_ISSUER", "The token is from another issuer.", error);
    if (error.claim === "aud") return fail("WRONG_AUDIENCE", "The token is for another audience.", error);
    if (error.claim === "nbf") return fail("TOKEN_INVALID", "The token is not yet valid.", error);
    if (error.claim === "typ") return fail("TOKEN_INVALID", "The token is not a step-up token (typ).", error);
    return fail("TOKEN_INVALID", `The token's "${error.claim}" claim is invalid.`, error);
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return fail("TOKEN_INVALID", "The token's key (kid) is not in the issuer's key set.", error);
  if (error instanceof errors.JOSEAlgNotAllowed)
    return fail("TOKEN_INVALID", "The token's algorithm is not ES256.", error);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return fail("TOKEN_INVALID", "The token's signature is invalid.", error);
  return fail("TOKEN_INVALID", "The token is not a valid step-up token.", error);
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isText = (v: unknown): v is string => typeof v === "string" && v !== "";

/** Every claim stepup writes, with its type: the payload as typed claims, or TOKEN_INVALID. */
function claimsOf(p: JWTPayload): StepUpTokenClaims {
  const wrong = (claim: string) =>
    fail("TOKEN_INVALID", `The token's "${claim}" claim is missing or invalid.`);
  for (const claim of ["iss", "sub", "jti", "sid", "scope"] as const)
    if (!isText(p[claim])) throw wrong(claim);
  for (const claim of ["iat", "exp", "auth_time"] as const) if (!isNumber(p[claim])) throw wrong(claim);
  if (!isText(p.aud) && !(Array.isArray(p.aud) && p.aud.every(isText))) throw wrong("aud");
  if (p.acr !== "mfa" && p.acr !== "phishing-resistant") throw wrong("acr");
  if (!Array.isArray(p.amr) || !p.amr.every(isText)) throw wrong("amr");
  if (p.txn !== undefined && !isText(p.txn)) throw wrong("txn");
  return p as unknown as StepUpTokenClaims;
}

/**
 * A step-up token verifier, made once at start-up (options are checked here, naming a bad one;
 * a `jwksUrl` is fetched on first use and cached).
 *
 * Checks: ES256 only, `typ: stepup+jwt`, the signature against the issuer's JWKS (`kid`), `iss`,
 * `aud`, `exp`/`nbf`/`iat` within `clockTolerance`, every claim present and typed, `scope` =
 * `resource:action`, `auth_time` within `maxAge`, `txn` when given, and single use with `replay`.
 *
 * @throws TypeError naming the bad option
 * @example
 * import { createStepUpVerifier } from "@stepup/verify";
 *
 * const verifier = createStepUpVerifier({
 *   jwksUrl: "https://app.example.com/stepup/.well-known/jwks.json",
 *   issuer: "https://app.example.com",
 *   audience: "payments",
 *   resource: "payment",
 *   action: "send",
 *   maxAge: 300,
 * });
 * const claims = await verifier.verify(token); // throws StepUpTokenError when refused
 */
export function createStepUpVerifier(options: StepUpVerifierOptions): StepUpVerifier {
  const o = resolveOptions(options);
  const getKey = keyResolver(o);
  return Object.freeze({
    async verify(token: string, check: StepUpCheck = {}) {
      return verifyWith(o, getKey, token, { ...o.check, ...stripUndefined(resolveCheck(check, "check.")) });
    },
  });
}

async function verifyWith(
  o: ResolvedOptions,
  getKey: KeyResolver,
  token: string,
  c: StepUpCheck,
): Promise<StepUpTokenClaims> {
  if (c.resource === undefined) throw new TypeError("@stepup/verify: option `resource` is required");
  if (c.action === undefined) throw new TypeError("@stepup/verify: option `action` is required");
  if (typeof token !== "string" || token === "") throw fail("TOKEN_INVALID", "No step-up token.");
  if (token.length > MAX_TOKEN_LENGTH) throw fail("TOKEN_INVALID", "The token is too long.");
  const nowMs = o.clock.now();
  const now = Math.floor(nowMs / 1000);
  let claims: StepUpTokenClaims;
  try {
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: ["ES256"],
      typ: STEP_UP_TOKEN_TYPE,
      issuer: o.issuer,
      audience: o.audience,
      clockTolerance: o.clockTolerance,
      currentDate: new Date(nowMs),
      requiredClaims: ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "auth_time", "scope"],
    });
    claims = claimsOf(payload);
  } catch (error) {
    throw translate(error);
  }
  if (claims.iat > now + o.clockTolerance || claims.auth_time > now + o.clockTolerance)
    throw fail("TOKEN_INVALID", "The token is not yet valid (iat or auth_time in the future).");
  if (claims.scope !== `${c.resource}:${c.action}`)
    throw fail("WRONG_SCOPE", `The token is for another action (not ${c.resource}:${c.action}).`);
  if (c.txn !== undefined && claims.txn !== c.txn)
    throw fail("WRONG_TRANSACTION", "The token is for another transaction.");
  if (c.maxAge !== undefined && claims.auth_time < now - c.maxAge - o.clockTolerance)
    throw fail("TOO_OLD", `The step-up is older than ${c.maxAge} s: step up again.`);
  if (o.replay) {
    let first: boolean;
    try {
      first = await o.replay.seen(claims.jti, claims.exp + o.clockTolerance);
    } catch (cause) {
      throw fail("REPLAY_UNAVAILABLE", "The replay cache is unavailable.", cause);
    }
    if (first !== true) throw fail("REPLAYED", "The token was used before.");
  }
  return claims;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Remote key sets of one-shot calls, by address and timeout: their caches outlive a call. */
const remoteKeySets = new Map<string, KeyResolver>();
const MAX_REMOTE_KEY_SETS = 32;

/**
 * Verifies one step-up token, for a service that checks a token here and there. With `jwksUrl`
 * the key set is cached per address (and timeout) across calls; {@link createStepUpVerifier}
 * checks the options once instead of on every call.
 *
 * @throws StepUpTokenError with a stable `code` when the token is refused
 * @throws TypeError naming a bad option
 * @example
 * import { verifyStepUpToken } from "@stepup/verify";
 *
 * const claims = await verifyStepUpToken(token, {
 *   jwksUrl: "https://app.example.com/stepup/.well-known/jwks.json",
 *   issuer: "https://app.example.com",
 *   audience: "payments",
 *   resource: "payment",
 *   action: "send",
 *   maxAge: 300,
 * });
 */
export async function verifyStepUpToken(
  token: string,
  options: VerifyStepUpTokenOptions,
): Promise<StepUpTokenClaims> {
  const o = resolveOptions(options); // names a bad option before anything else
  if (!o.jwksUrl) return verifyWith(o, keyResolver(o), token, o.check);
  const id = `${o.jwksTimeoutMs} ${o.jwksUrl.href}`;
  let getKey = remoteKeySets.get(id);
  if (!getKey) {
    if (remoteKeySets.size >= MAX_REMOTE_KEY_SETS)
      remoteKeySets.delete(remoteKeySets.keys().next().value as string);
    getKey = keyResolver(o);
    remoteKeySets.set(id, getKey);
  }
  return verifyWith(o, getKey, token, o.check);
}
