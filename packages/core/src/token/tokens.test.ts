// Threats: a step-up token forged (alg none, HS256 keyed with the public key, a flipped byte, an
// unknown key), carried to another user or action, replayed after logout or revokeUser, or minted
// without a fresh step-up; and a JWKS that leaks a private key.
import { createPublicKey } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, testEngine } from "../../test/helpers.js";
import type { RuleOptions, StepUpUser } from "../types.js";
import { generateSigningKey } from "./signing-keys.js";

const KEY = generateSigningKey();
const OLD_KEY = generateSigningKey();

function engine(keys = [KEY], rules: Record<string, RuleOptions> = {}) {
  return testEngine({ tokens: { issuer: "https://app.example", audience: "reports", keys }, rules });
}
type T = ReturnType<typeof engine>;

async function freshSid(t: T, resource = "report", action = "view", txn?: string) {
  const rule = t.engine.rules.lookup(resource, action);
  const { challenge } = await t.engine.openChallenge(alice, "s", rule, txn ? { txn } : {});
  const { sid } = await t.engine.challenges.verify(alice, "s", challenge.id, {
    factor: "totp",
    code: await codeAt(t.clock.now()),
  });
  t.clock.advance(30_000);
  return sid;
}

async function mint(t: T, sid: string, resource = "report", action = "view", txn?: string) {
  const minted = await t.engine.tokens.mint(alice, sid, t.engine.rules.lookup(resource, action), txn);
  if ("stepUpRequired" in minted) throw new Error("not fresh");
  return minted;
}

const accept = (
  t: T,
  token: string,
  resource = "report",
  action = "view",
  user: StepUpUser = alice,
  txn?: string,
) => t.engine.tokens.accept(user, t.engine.rules.lookup(resource, action), token, txn);

describe("step-up tokens", () => {
  it("are minted only when fresh, with the claims other services check", async () => {
    const t = engine();
    await enrollAlice(t);
    expect(
      await t.engine.tokens.mint(alice, undefined, t.engine.rules.lookup("report", "view")),
    ).toHaveProperty("stepUpRequired");
    const sid = await freshSid(t);
    const { token, claims } = await mint(t, sid);
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "ES256",
      typ: "stepup+jwt",
      kid: expect.any(String),
    });
    expect(decodeJwt(token)).toMatchObject({
      iss: "https://app.example",
      aud: "reports",
      sub: "alice",
      scope: "report:view",
      acr: "mfa",
      amr: ["otp", "mfa"],
    });
    // auth_time is when the factor was proved, not when the token was minted.
    expect(claims.auth_time).toBeLessThan(claims.iat);
    // Never past the assurance's own expiry (default rule maxAge 300 s).
    expect(claims.exp).toBeLessThanOrEqual(claims.auth_time + 300);
  });

  it("the JWKS holds public parts only, every configured key, and its kids", async () => {
    const t = engine([KEY, OLD_KEY]);
    const { keys } = t.engine.tokens.jwks();
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(k).toMatchObject({ alg: "ES256", use: "sig", kty: "EC", crv: "P-256" });
    }
  });

  it("a guard accepts the token for the same user and rule, and no other", async () => {
    const t = engine();
    await enrollAlice(t);
    const { token } = await mint(t, await freshSid(t));
    expect(await accept(t, token)).toMatchObject({ sub: "alice" });
    expect(await accept(t, token, "report", "delete")).toBeUndefined();
    expect(await accept(t, token, "report", "view", { id: "bob" })).toBeUndefined();
  });

  it("forgeries are refused: a flipped byte, alg none, HS256 keyed with the public key, an unknown key", async () => {
    const t = engine();
    await enrollAlice(t);
    const { token } = await mint(t, await freshSid(t));
    const [h, p, s] = token.split(".") as [string, string, string];
    const flip = (x: string) => `${x.slice(0, 10)}${x[10] === "A" ? "B" : "A"}${x.slice(11)}`;
    expect(await accept(t, `${h}.${p}.${flip(s)}`)).toBeUndefined();
    expect(await accept(t, `${h}.${flip(p)}.${s}`)).toBeUndefined();
    const header = decodeProtectedHeader(token);
    const none = `${Buffer.from(JSON.stringify({ ...header, alg: "none" })).toString("base64url")}.${p}.`;
    expect(await accept(t, none)).toBeUndefined();
    const publicPem = createPublicKey(KEY).export({ format: "pem", type: "spki" }).toString();
    const hs = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ ...header, alg: "HS256" })
      .sign(new TextEncoder().encode(publicPem));
    expect(await accept(t, hs)).toBeUndefined();
    const other = engine([OLD_KEY]);
    await enrollAlice(other);
    const foreign = (await mint(other, await freshSid(other))).token;
    expect(await accept(t, foreign)).toBeUndefined();
  });

  it("expired tokens, and tokens after revokeUser or after logout, are refused", async () => {
    const t = engine();
    await enrollAlice(t);
    const sid = await freshSid(t);
    const { token } = await mint(t, sid);
    t.clock.advance(301_000);
    expect(await accept(t, token)).toBeUndefined();

    const sid2 = await freshSid(t);
    const second = (await mint(t, sid2)).token;
    await t.engine.revokeUser(alice.id);
    expect(await accept(t, second)).toBeUndefined();
    // auth_time has whole seconds: a proof within the second of a revocation counts as revoked.
    t.clock.advance(1000);

    const sid3 = await freshSid(t);
    const third = (await mint(t, sid3)).token;
    expect(await accept(t, third)).toBeDefined();
    await t.engine.revokeSession(alice.id, sid3);
    expect(await accept(t, third)).toBeUndefined();
  });

  it("rotation: a token signed by a key still listed keeps working after a new key goes first", async () => {
    const before = engine([OLD_KEY]);
    await enrollAlice(before);
    const { token } = await mint(before, await freshSid(before));
    const after = testEngine(
      { tokens: { issuer: "https://app.example", audience: "reports", keys: [KEY, OLD_KEY] } },
      before.store,
    );
    after.clock.set(before.clock.now());
    expect(await accept(after, token)).toMatchObject({ sub: "alice" });
    const kid = decodeProtectedHeader(token).kid;
    const key = after.engine.tokens.jwks().keys.find((k) => k.kid === kid);
    expect(key).toBeDefined();
    // And an independent check with jose against the published key.
    const { importJWK } = await import("jose");
    await expect(
      jwtVerify(token, await importJWK(key as never, "ES256"), { currentDate: new Date(after.clock.now()) }),
    ).resolves.toBeDefined();
  });

  it("a transaction token carries txn and works once", async () => {
    const t = engine([KEY], { "payment:transfer": { match: "transaction" } });
    await enrollAlice(t);
    const sid = await freshSid(t, "payment", "transfer", "digest-1");
    const { token, claims } = await mint(t, sid, "payment", "transfer", "digest-1");
    expect(claims.txn).toBe("digest-1");
    expect(await accept(t, token, "payment", "transfer", alice, "digest-2")).toBeUndefined();
    const uses = await Promise.all(
      [1, 2, 3].map(() => accept(t, token, "payment", "transfer", alice, "digest-1")),
    );
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  it("rejects bad token options at start-up, naming them", () => {
    const make = (tokens: unknown) => () => testEngine({ tokens: tokens as never });
    expect(make({ issuer: "", audience: "a", keys: [KEY] })).toThrow(/tokens.issuer/);
    expect(make({ issuer: "i", audience: [], keys: [KEY] })).toThrow(/tokens.audience/);
    expect(make({ issuer: "i", audience: "a", keys: [] })).toThrow(/tokens.keys/);
    expect(make({ issuer: "i", audience: "a", keys: ["not a key"] })).toThrow(/tokens.keys\[0\]/);
    expect(make({ issuer: "i", audience: "a", keys: [KEY, KEY] })).toThrow(/same key twice/);
    expect(make({ issuer: "i", audience: "a", keys: [KEY], ttl: 5 })).toThrow(/tokens.ttl/);
  });
});
