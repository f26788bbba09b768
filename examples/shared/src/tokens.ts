import type { StepUp, TokenOptions } from "@stepup/core";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A DEVELOPMENT-ONLY step-up token signing key (ES256, PKCS#8 PEM), committed so that several demo
 * processes sharing one REDIS_URL accept each other's tokens with no set-up. Anyone can read it,
 * so anyone can mint tokens the demo accepts: never use it outside development. Set
 * STEPUP_TOKEN_KEY instead (`node -e "console.log(require('@stepup/core').generateSigningKey())"`).
 */
export const DEV_TOKEN_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwFgToLC5vyBfRzBG
94fr5voUpnw/pO8rMHOJ+GHKycihRANCAAQyr4S/kaqHH2/XVxcMj20FoLgQ9+tQ
DJ4bKKxTNPdHxq87q3YuxRv8OgazbH0od+U4zh+2Hy+zyDgsKy8Iz5ty
-----END PRIVATE KEY-----
`;

/** The demos' step-up token audience (`aud`): what a service checking their tokens expects. */
export const DEMO_TOKEN_AUDIENCE = "stepup-demo";

/**
 * STEPUP_TOKEN_KEY, the PEM signing key of step-up tokens (`\n` escapes allowed, for one-line
 * env files). Unset: the development key, with a loud warning, except under NODE_ENV=production.
 * @throws Error under NODE_ENV=production without STEPUP_TOKEN_KEY
 */
export function tokenKeyFromEnv(env: Env = process.env, warn: (line: string) => void = console.warn): string {
  const value = env.STEPUP_TOKEN_KEY;
  if (value) return value.replace(/\\n/g, "\n");
  if (env.NODE_ENV === "production")
    throw new Error(
      "demo: STEPUP_TOKEN_KEY is not set; refusing to start with the development token key under NODE_ENV=production.",
    );
  warn(
    "\n  WARNING: STEPUP_TOKEN_KEY is not set. Using a fixed DEVELOPMENT key: anyone can forge step-up tokens.\n",
  );
  return DEV_TOKEN_KEY;
}

/** The demos' `tokens` option: issued by the demo's origin, for `stepup-demo`, signed with `key`. */
export function demoTokens(origin: string, key: string): TokenOptions {
  return { issuer: origin, audience: DEMO_TOKEN_AUDIENCE, keys: [key] };
}

/** What `userFromStepUpToken` needs of the engine. */
interface TokenEngine {
  tokens: Pick<StepUp["tokens"], "accept">;
  rules: Pick<StepUp["rules"], "lookup">;
}

/**
 * The demos' toy auth for a bearer-only client (a script holding a step-up token, no cookies): the
 * user of a step-up token stepup accepts, for one of the `allowed` rules only (`"data:export"`).
 * The token is checked in full (signature, expiry, scope, revocation) before its `sub` is believed:
 * an unchecked `sub` would let anyone open a challenge for any account. In a real app, your API's
 * own access token says who is calling, and the step-up token only proves the step-up.
 */
export async function userFromStepUpToken<U extends { id: string }>(
  engine: TokenEngine,
  authorization: string | null | undefined,
  findById: (id: string) => Promise<U | undefined>,
  allowed: readonly string[],
): Promise<U | undefined> {
  const token = /^Bearer +([\w.~+/-]+=*)$/i.exec(authorization ?? "")?.[1];
  if (!token) return undefined;
  let claims: { sub?: unknown; scope?: unknown };
  try {
    claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) ?? {};
  } catch {
    return undefined;
  }
  const { sub, scope } = claims;
  if (typeof sub !== "string" || typeof scope !== "string" || !allowed.includes(scope)) return undefined;
  const user = await findById(sub);
  if (!user) return undefined;
  const [resource, action] = scope.split(":");
  const rule = engine.rules.lookup(resource, action);
  return (await engine.tokens.accept({ id: user.id }, rule, token)) ? user : undefined;
}
