import { createHmac, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createStepUp, generateSigningKey, memoryStore, type StepUpUser, totp } from "@stepup/core";
import { calculateJwkThumbprint, type JWK, SignJWT } from "jose";

export const ISSUER = "https://app.example.com";
export const AUDIENCE = "payments";
export const RESOURCE = "payment";
export const ACTION = "send";

/** What every test verifier trusts: the issuer, audience and rule above. */
export const expected = { issuer: ISSUER, audience: AUDIENCE, resource: RESOURCE, action: ACTION };

export interface TestKey {
  pem: string;
  privateKey: KeyObject;
  kid: string;
  /** The public JWK as stepup publishes it. */
  jwk: JWK;
}

/** A new ES256 key as core makes them, with its RFC 7638 kid and public JWK. */
export async function newKey(): Promise<TestKey> {
  const pem = generateSigningKey();
  const privateKey = createPrivateKey(pem);
  const pub = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint(pub);
  return { pem, privateKey, kid, jwk: { ...pub, kid, alg: "ES256", use: "sig" } };
}

export const jwksOf = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.jwk) });

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims shaped like core's, issued now, expiring in 5 minutes. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "alice",
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    sid: "family-1",
    auth_time: now - 10,
    acr: "mfa",
    amr: ["otp", "mfa"],
    scope: `${RESOURCE}:${ACTION}`,
    ...overrides,
  };
}

/** Signs claims as core does (ES256, typ stepup+jwt, kid); `header` overrides the header. */
export function sign(
  key: TestKey,
  payload = claims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", typ: "stepup+jwt", kid: key.kid, ...header } as never)
    .sign(key.privateKey);
}

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The token with one bit of one byte of a part (0 header, 1 payload, 2 signature) flipped. */
export function flipByte(token: string, part: 0 | 1 | 2, at = 10): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part] as string, "base64url");
  bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

/** A real HTTP server on a free loopback port; `handle` answers each request. */
export async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/stepup/.well-known/jwks.json`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JSON answer. */
export function json(res: ServerResponse, body: unknown, status = 200) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

// A real core engine: enroll TOTP, step up, mint. --------------------------------------------------

const SEED = new TextEncoder().encode("12345678901234567890");

/** RFC 6238 (SHA-1, 30 s, 6 digits) of the RFC seed. */
function totpCode(ms: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const h = createHmac("sha1", SEED).update(counter).digest();
  const offset = (h[19] as number) & 0xf;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * A token minted by @stepup/core itself: an engine on the memory store enrolls alice's TOTP a
 * minute ago, she steps up 30 s later for payment:send, and the engine mints now (real time).
 */
export async function mintWithCore(keys: TestKey[], user: StepUpUser = { id: "alice" }) {
  let offset = -60_000;
  const clock = { now: () => Date.now() + offset };
  let seeded = false;
  const engine = createStepUp({
    store: memoryStore({ clock }),
    secret: "test-secret-test-secret-test-secret-0123",
    appName: "Test",
    factors: [totp()],
    clock,
    randomBytes: (n) => {
      if (n === 20 && !seeded) {
        seeded = true;
        return SEED.slice();
      }
      return crypto.getRandomValues(new Uint8Array(n));
    },
    tokens: { issuer: ISSUER, audience: AUDIENCE, keys: keys.map((k) => k.pem) },
    logger: { warn() {}, error() {} },
  });
  const started = (await engine.factors.enrollStart(user, "totp", {}, undefined)) as { factorId: string };
  await engine.factors.enrollConfirm(
    user,
    "totp",
    started.factorId,
    { code: totpCode(clock.now()) },
    undefined,
  );
  offset += 30_000;
  const rule = engine.rules.lookup(RESOURCE, ACTION);
  const { challenge } = await engine.openChallenge(user, "s0", rule);
  const verified = await engine.challenges.verify(user, "s0", challenge.id, {
    factor: "totp",
    code: totpCode(clock.now()),
  });
  offset += 30_000;
  const minted = await engine.tokens.mint(user, verified.sid, rule);
  if (!("token" in minted)) throw new Error("core did not mint: a step-up is required");
  return { ...minted, jwks: engine.tokens.jwks() };
}
