import { beforeAll, describe, expect, it } from "vitest";
import { claims, expected, jwksOf, newKey, sign, type TestKey } from "../test/helpers.js";
import { StepUpTokenError } from "./errors.js";
import { createStepUpVerifier, type StepUpVerifier } from "./verify.js";

let key: TestKey;
let verifier: StepUpVerifier;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  key = await newKey();
  verifier = createStepUpVerifier({ jwks: jwksOf(key), ...expected });
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof StepUpTokenError ? e.code : `not a StepUpTokenError: ${String(e)}`),
  );

describe("genuine tokens used where they do not apply", () => {
  it("expired: a token past exp (beyond the 5 s tolerance) is refused; within it, accepted", async () => {
    const expired = await sign(key, claims({ iat: now() - 400, exp: now() - 30 }));
    expect(await outcome(verifier.verify(expired))).toBe("TOKEN_EXPIRED");
    const justNow = await sign(key, claims({ iat: now() - 300, exp: now() - 2 }));
    expect(await outcome(verifier.verify(justNow))).toBe("ok");
    const strict = createStepUpVerifier({ jwks: jwksOf(key), ...expected, clockTolerance: 0 });
    expect(await outcome(strict.verify(justNow))).toBe("TOKEN_EXPIRED");
  });

  it("not yet valid: nbf, iat or auth_time in the future is refused", async () => {
    for (const early of [{ nbf: now() + 60 }, { iat: now() + 60 }, { auth_time: now() + 60 }]) {
      expect(await outcome(verifier.verify(await sign(key, claims(early))))).toBe("TOKEN_INVALID");
    }
  });

  it("wrong issuer: another stepup deployment's token is refused", async () => {
    const other = await sign(key, claims({ iss: "https://evil.example" }));
    expect(await outcome(verifier.verify(other))).toBe("WRONG_ISSUER");
  });

  it("wrong audience: a token minted for another service is refused", async () => {
    expect(await outcome(verifier.verify(await sign(key, claims({ aud: "reports" }))))).toBe(
      "WRONG_AUDIENCE",
    );
    const several = await sign(key, claims({ aud: ["reports", "payments"] }));
    expect(await outcome(verifier.verify(several))).toBe("ok");
  });

  it("another scope: a step-up for profile:edit does not send a payment", async () => {
    const token = await sign(key, claims({ scope: "profile:edit" }));
    expect(await outcome(verifier.verify(token))).toBe("WRONG_SCOPE");
    expect(await outcome(verifier.verify(token, { resource: "profile", action: "edit" }))).toBe("ok");
    // A scope list is not one scope: "payment:send extra" is not payment:send.
    const padded = await sign(key, claims({ scope: "payment:send profile:edit" }));
    expect(await outcome(verifier.verify(padded))).toBe("WRONG_SCOPE");
  });

  it("too old: a step-up from 20 minutes ago fails a 5-minute maxAge", async () => {
    const old = await sign(key, claims({ auth_time: now() - 1200 }));
    expect(await outcome(verifier.verify(old))).toBe("ok"); // no maxAge asked
    expect(await outcome(verifier.verify(old, { maxAge: 300 }))).toBe("TOO_OLD");
    const strict = createStepUpVerifier({ jwks: jwksOf(key), ...expected, maxAge: 300 });
    expect(await outcome(strict.verify(old))).toBe("TOO_OLD");
    expect(await outcome(strict.verify(await sign(key)))).toBe("ok");
  });

  it("another transaction: a token for one payment does not approve another", async () => {
    const token = await sign(key, claims({ txn: "digest-of-payment-1" }));
    expect(await outcome(verifier.verify(token, { txn: "digest-of-payment-1" }))).toBe("ok");
    expect(await outcome(verifier.verify(token, { txn: "digest-of-payment-2" }))).toBe("WRONG_TRANSACTION");
    expect(await outcome(verifier.verify(await sign(key), { txn: "digest-of-payment-1" }))).toBe(
      "WRONG_TRANSACTION",
    );
  });

  it("a signed token missing a claim, or with a mistyped one, is refused", async () => {
    const cases: Record<string, unknown>[] = [
      { sub: undefined },
      { jti: undefined },
      { sid: undefined },
      { auth_time: undefined },
      { scope: undefined },
      { exp: undefined },
      { iat: undefined },
      { sub: 42 },
      { auth_time: "yesterday" },
      { acr: "password" },
      { amr: "otp" },
      { amr: [1] },
      { txn: 7 },
    ];
    for (const change of cases) {
      const token = await sign(key, claims(change));
      expect(`${JSON.stringify(change)}: ${await outcome(verifier.verify(token))}`).toBe(
        `${JSON.stringify(change)}: TOKEN_INVALID`,
      );
    }
  });
});

describe("misconfiguration throws a TypeError naming the option", () => {
  const base = { jwks: { keys: [{ kty: "EC" }] }, ...expected };
  it.each([
    ["issuer", { ...base, issuer: "" }],
    ["audience", { ...base, audience: [] }],
    ["jwksUrl", { ...base, jwks: undefined }],
    ["jwksUrl", { ...base, jwksUrl: "https://a.example/jwks.json" }],
    ["jwksUrl", { ...base, jwks: undefined, jwksUrl: "http://a.example/jwks.json" }],
    ["jwksUrl", { ...base, jwks: undefined, jwksUrl: "not a url" }],
    ["jwks", { ...base, jwks: { keys: [] } }],
    ["clockTolerance", { ...base, clockTolerance: 61 }],
    ["clockTolerance", { ...base, clockTolerance: 1.5 }],
    ["maxAge", { ...base, maxAge: 0 }],
    ["resource", { ...base, resource: "payment:send" }],
    ["jwksTimeoutMs", { ...base, jwksTimeoutMs: 0 }],
    ["replay", { ...base, replay: {} }],
  ])("%#: a bad `%s`", (name, options) => {
    expect(() => createStepUpVerifier(options as never)).toThrow(TypeError);
    expect(() => createStepUpVerifier(options as never)).toThrow(`\`${name}\``);
  });

  it("verify without any resource/action, or a bad per-call check, throws a TypeError", async () => {
    const bare = createStepUpVerifier({ jwks: jwksOf(key), issuer: expected.issuer, audience: "payments" });
    const token = await sign(key);
    await expect(bare.verify(token)).rejects.toThrow(/`resource`/);
    await expect(verifier.verify(token, { maxAge: -1 })).rejects.toThrow(/`check.maxAge`/);
  });

  it("an http: JWKS address is accepted only for localhost", () => {
    const local = { ...expected, jwksUrl: "http://127.0.0.1:1/jwks.json" };
    expect(() => createStepUpVerifier(local)).not.toThrow();
  });
});
