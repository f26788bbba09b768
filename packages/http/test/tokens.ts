import { createHmac, createPrivateKey, sign } from "node:crypto";
import { generateSigningKey, memoryStore, type StepUpUser, type Store } from "@stepup/core";
import type { StepUpHttpOptions } from "../src/create-step-up-http.js";
import { browser, type FakeClock, fakeClock } from "./browser-client.js";
import { testHttp } from "./helpers.js";

export const ORIGIN = "http://localhost:3000";
export const AUDIENCE = "stepup-test";

/** The HTTP layer with step-up tokens on (fresh ES256 keys), a fake clock and a shared store. */
export function tokenHttp(
  opts: {
    keys?: string[];
    ttl?: number;
    clock?: FakeClock;
    store?: Store;
    tokens?: boolean;
    policy?: StepUpHttpOptions["policy"];
  } = {},
) {
  const clock = opts.clock ?? fakeClock();
  const keys = opts.keys ?? [generateSigningKey()];
  const http = testHttp({
    clock,
    store: opts.store ?? memoryStore(),
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.tokens === false
      ? {}
      : { tokens: { issuer: ORIGIN, audience: AUDIENCE, keys, ...(opts.ttl ? { ttl: opts.ttl } : {}) } }),
  });
  return { http, clock, keys };
}

type Http = ReturnType<typeof tokenHttp>["http"];

/** A browser of `user` with TOTP enrolled and a fresh step-up for `data:export`, and a token for it. */
export async function steppedUp(http: Http, clock: FakeClock, user: StepUpUser, rule = "data:export") {
  const [resource = "", action = ""] = rule.split(":");
  const b = browser(http);
  const secret = await b.enrollTotp(user, clock);
  const guard = http.guard({ resource, action, maxAge: 600 });
  await b.stepUp(guard, user, secret, clock);
  const res = await b.api(user, "POST", "token", { resource, action });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return { b, secret, guard, token: String(res.body.token), expiresAt: String(res.body.expiresAt) };
}

/** A request as another service (or a CLI) sends it: the bearer and nothing else, no cookie. */
export const bearerRequest = (token: string, path = "/api/export", method = "GET") =>
  new Request(`${ORIGIN}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The header and payload of a compact JWS, decoded without checking anything. */
export function decodeToken(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h = "", p = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    payload: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}

/** A hand-made JWS: `alg: none`, HS256 with any secret, or ES256 with any P-256 key. */
export function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key?: { hmac: string | Buffer } | { pem: string },
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (!key) return `${input}.`;
  if ("hmac" in key) return `${input}.${createHmac("sha256", key.hmac).update(input).digest("base64url")}`;
  const sig = sign("sha256", Buffer.from(input), {
    key: createPrivateKey(key.pem),
    dsaEncoding: "ieee-p1363",
  });
  return `${input}.${sig.toString("base64url")}`;
}
