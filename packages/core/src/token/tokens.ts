import { randomBytes } from "node:crypto";
import type { Sessions } from "../assurance/sessions.js";
import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import type { NeedsStepUp } from "../policy/own-actions.js";
import type { Assurance, Rule, StepUpUser } from "../types.js";
import { loadSigningKeys, type PublicJwk, type SigningKey, type SigningKeyInput } from "./signing-keys.js";

/**
 * jose, loaded on first use: an app that never turns step-up tokens on never loads it (~0.8 MB of
 * heap in every process, and its start-up).
 */
let jose: typeof import("jose") | undefined;
async function loadJose(): Promise<typeof import("jose")> {
  jose ??= await import("jose");
  return jose;
}

/** Options of step-up tokens (`createStepUp({ tokens })`). */
export interface TokenOptions {
  /** `iss`: who issues them, e.g. your app's origin. */
  issuer: string;
  /** `aud`: who they are for. */
  audience: string | readonly string[];
  /** ES256 (P-256) private keys, PKCS#8 PEM or JWK; the first signs, all are published. Never the cookie secret. */
  keys: readonly SigningKeyInput[];
  /** Lifetime in seconds (whole, 30 to 3600); never past the assurance's own expiry. @default 300 */
  ttl?: number;
}

/** What a step-up token says (RFC 9068-style claims, RFC 8176 `amr`, RFC 9470 `acr`/`auth_time`). */
export interface StepUpTokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  /** The step-up session family (stable across rotations; a logout ends it). */
  sid: string;
  auth_time: number;
  acr: "mfa" | "phishing-resistant";
  amr: string[];
  /** `resource:action`. */
  scope: string;
  txn?: string;
}

/** The token header type: a token of another kind (an ID token, an access token) is never one. */
export const TOKEN_TYPE = "stepup+jwt";

export interface ResolvedTokenOptions {
  issuer: string;
  audience: string | string[];
  keys: SigningKey[];
  ttl: number;
}

/** Validates `tokens` at start-up, naming a bad option. */
export function resolveTokenOptions(input: TokenOptions | undefined): ResolvedTokenOptions | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== "object" || input === null)
    throw new TypeError("stepup: option `tokens` must be an object");
  if (typeof input.issuer !== "string" || input.issuer.trim() === "")
    throw new TypeError("stepup: option `tokens.issuer` must be a non-empty string (your origin)");
  const aud = input.audience;
  if (
    !(typeof aud === "string" && aud !== "") &&
    !(Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === "string" && a))
  )
    throw new TypeError("stepup: option `tokens.audience` must be a non-empty string or list of strings");
  const ttl = input.ttl ?? 300;
  if (!Number.isInteger(ttl) || ttl < 30 || ttl > 3600)
    throw new TypeError("stepup: option `tokens.ttl` must be a whole number of seconds from 30 to 3600");
  return {
    issuer: input.issuer,
    audience: typeof aud === "string" ? aud : [...aud],
    keys: loadSigningKeys("tokens.keys", input.keys),
    ttl,
  };
}

/** RFC 8176 values for an assurance: its factor's, `user` for a WebAuthn presence test, and `mfa`. */
function amrOf(a: Assurance): string[] {
  const out = new Set(a.amr);
  if (out.has("hwk") || out.has("swk")) out.add("user");
  out.add("mfa"); // a step-up is a second factor on top of the app's own sign-in
  return [...out];
}

/**
 * Step-up tokens: short-lived ES256 JWTs proving a fresh step-up, for other services (offline,
 * against the JWKS) and for bearer requests to guards. Minted only when the step-up session is
 * fresh for the rule; `exp` never outlives the assurance; revocation (logout, `revokeUser`) is
 * checked again whenever a guard accepts one.
 */
export function createTokens(
  ctx: EngineContext,
  sessions: Sessions,
  options: ResolvedTokenOptions | undefined,
) {
  const enabled = () => {
    if (!options) throw new StepUpError("NOT_FOUND", "Step-up tokens are not enabled (`tokens` option).");
    return options;
  };

  return {
    enabled: options !== undefined,

    /** The public keys, for `/.well-known/jwks.json` (empty when tokens are off). */
    jwks(): { keys: PublicJwk[] } {
      return { keys: options ? options.keys.map((k) => k.jwk) : [] };
    },

    /**
     * A token for `rule` if the step-up session is fresh for it (a transaction rule also needs the
     * transaction's digest, and the grant is consumed: the token is then the one proof of it).
     * @returns the token, or the rule to step up for first
     * @throws StepUpError NOT_FOUND when tokens are off
     */
    async mint(
      user: StepUpUser,
      sid: string | undefined,
      rule: Rule,
      txn?: string,
    ): Promise<{ token: string; expiresAtMs: number; claims: StepUpTokenClaims } | NeedsStepUp> {
      const o = enabled();
      const fresh = await sessions.check(user.id, sid, rule, txn);
      if (!fresh.fresh || !sid) return { stepUpRequired: rule };
      const [raw] = await ctx.store.getMany(user.id, [keys.session(sid)]);
      const familyId = raw ? (JSON.parse(raw) as { familyId?: string }).familyId : undefined;
      if (!familyId) return { stepUpRequired: rule };
      const nowMs = ctx.now();
      const expiresAtMs = Math.min(nowMs + o.ttl * 1000, fresh.expiresAtMs);
      const a = fresh.assurance;
      const claims: StepUpTokenClaims = {
        iss: o.issuer,
        aud: o.audience,
        sub: user.id,
        iat: Math.floor(nowMs / 1000),
        exp: Math.floor(expiresAtMs / 1000),
        jti: randomBytes(16).toString("base64url"),
        sid: familyId,
        auth_time: Math.floor(a.atMs / 1000),
        acr: a.level,
        amr: amrOf(a),
        scope: `${rule.resource}:${rule.action}`,
        ...(a.txn === undefined ? {} : { txn: a.txn }),
      };
      const [signer] = o.keys;
      if (!signer) throw new Error("no signing key");
      const { SignJWT } = jose ?? (await loadJose());
      const token = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: "ES256", typ: TOKEN_TYPE, kid: signer.kid })
        .sign(signer.privateKey);
      await ctx.emit({ type: "token.issued", userId: user.id, resource: rule.resource, action: rule.action });
      return { token, expiresAtMs: Math.floor(expiresAtMs / 1000) * 1000, claims };
    },

    /**
     * Whether a bearer token proves a fresh step-up of `user` for `rule` now: our signature (ES256,
     * a published `kid`, `typ`), our issuer and audience, not expired, `sub` = the user, `scope` =
     * the rule (and `txn` = this request's transaction), `auth_time` within the rule's maxAge, and
     * no revocation since (`revokeUser`, logout of its session). A transaction token works once.
     */
    async accept(
      user: StepUpUser,
      rule: Rule,
      token: string,
      txn?: string,
    ): Promise<StepUpTokenClaims | undefined> {
      if (!options || token.length > 4096) return undefined;
      const { decodeProtectedHeader, jwtVerify } = jose ?? (await loadJose());
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        return undefined;
      }
      const key = options.keys.find((k) => k.kid === kid);
      if (!key) return undefined;
      let claims: StepUpTokenClaims;
      try {
        const verified = await jwtVerify(token, key.publicKey, {
          algorithms: ["ES256"],
          typ: TOKEN_TYPE,
          issuer: options.issuer,
          audience: options.audience,
          currentDate: new Date(ctx.now()),
          requiredClaims: ["sub", "exp", "iat", "jti", "auth_time", "scope", "sid"],
        });
        claims = verified.payload as unknown as StepUpTokenClaims;
      } catch {
        return undefined;
      }
      if (claims.sub !== user.id || claims.scope !== `${rule.resource}:${rule.action}`) return undefined;
      if (rule.match === "transaction" && (txn === undefined || claims.txn !== txn)) return undefined;
      const authMs = claims.auth_time * 1000;
      if (authMs < ctx.now() - rule.maxAge * 1000) return undefined;
      const [revoked, family] = await ctx.store.getMany(user.id, [
        keys.revoked,
        keys.familyRevoked(claims.sid),
      ]);
      if (authMs <= (Number(revoked) || 0) || family !== null) return undefined;
      if (rule.match === "transaction") {
        // One payment per token: its id is spent atomically on first use.
        const ttl = Math.max(1, claims.exp - Math.floor(ctx.now() / 1000));
        if (!(await ctx.store.setIfAbsent(user.id, keys.tokenUsed(claims.jti), "1", ttl))) return undefined;
      }
      return claims;
    },
  };
}

export type Tokens = ReturnType<typeof createTokens>;
