import { createHmac, createPublicKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  b64,
  claims,
  expected,
  flipByte,
  jwksOf,
  mintWithCore,
  newKey,
  sign,
  type TestKey,
} from "../test/helpers.js";
import { StepUpTokenError } from "./errors.js";
import { createStepUpVerifier, verifyStepUpToken } from "./verify.js";

let key: TestKey;
let verify: (token: string) => Promise<unknown>;

beforeAll(async () => {
  key = await newKey();
  verify = createStepUpVerifier({ jwks: jwksOf(key), ...expected }).verify;
});

/** The refusal's code, or "ok". */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof StepUpTokenError ? e.code : `not a StepUpTokenError: ${String(e)}`),
  );

describe("a token minted by @stepup/core", () => {
  it("verifies, and its claims come back typed", async () => {
    const minted = await mintWithCore([key]);
    const got = await createStepUpVerifier({ jwks: minted.jwks, ...expected, maxAge: 300 }).verify(
      minted.token,
    );
    expect(got).toEqual(minted.claims);
    expect(got.scope).toBe("payment:send");
    expect(got.acr).toBe("mfa");
  });
});

describe("forged tokens", () => {
  it("alg none: an unsigned token with every right claim is refused", async () => {
    const forged = `${b64({ alg: "none", typ: "stepup+jwt", kid: key.kid })}.${b64(claims())}.`;
    expect(await outcome(verify(forged))).toBe("TOKEN_INVALID");
  });

  it("algorithm confusion: HS256 keyed with the published public key is refused", async () => {
    const header = b64({ alg: "HS256", typ: "stepup+jwt", kid: key.kid });
    const body = b64(claims());
    const publicPem = createPublicKey(key.privateKey).export({ format: "pem", type: "spki" });
    for (const secret of [publicPem, JSON.stringify(key.jwk)]) {
      const mac = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
      const error = await verify(`${header}.${body}.${mac}`).catch((e: StepUpTokenError) => e);
      expect(error).toBeInstanceOf(StepUpTokenError);
      expect((error as StepUpTokenError).code).toBe("TOKEN_INVALID");
      expect((error as StepUpTokenError).cause).toBeDefined(); // jose's error, for the logs
    }
  });

  it("a flipped signature byte is refused", async () => {
    const token = await sign(key);
    expect(await outcome(verify(token))).toBe("ok");
    for (const at of [0, 17, 40, 63])
      expect(await outcome(verify(flipByte(token, 2, at)))).toBe("TOKEN_INVALID");
  });

  it("a flipped payload byte (another claim, the old signature) is refused", async () => {
    const token = await sign(key);
    for (const at of [3, 30, 90]) expect(await outcome(verify(flipByte(token, 1, at)))).toBe("TOKEN_INVALID");
  });

  it("a payload rewritten to another user keeps no valid signature", async () => {
    const [h, , s] = (await sign(key)).split(".");
    expect(await outcome(verify(`${h}.${b64(claims({ sub: "mallory" }))}.${s}`))).toBe("TOKEN_INVALID");
  });

  it("signed by a key the issuer never published (unknown kid) is refused", async () => {
    const stranger = await newKey();
    expect(await outcome(verify(await sign(stranger)))).toBe("TOKEN_INVALID");
    // Nor with the kid of a published key: the signature does not match it.
    expect(await outcome(verify(await sign(stranger, claims(), { kid: key.kid })))).toBe("TOKEN_INVALID");
  });

  it("a token naming no key (no kid) is refused", async () => {
    expect(await outcome(verify(await sign(key, claims(), { kid: undefined })))).toBe("TOKEN_INVALID");
  });

  it("an ID token of the same issuer and key (typ JWT, or no typ) is not a step-up token", async () => {
    expect(await outcome(verify(await sign(key, claims(), { typ: "JWT" })))).toBe("TOKEN_INVALID");
    expect(await outcome(verify(await sign(key, claims(), { typ: "at+jwt" })))).toBe("TOKEN_INVALID");
    expect(await outcome(verify(await sign(key, claims(), { typ: undefined })))).toBe("TOKEN_INVALID");
  });

  it("garbage, an empty token, a huge token and a non-string are refused, never thrown raw", async () => {
    for (const bad of ["", "abc", "a.b.c", "....", `${"a".repeat(5000)}.b.c`, undefined, 42]) {
      expect(await outcome(verify(bad as string))).toBe("TOKEN_INVALID");
    }
  });

  it("the one-shot verifyStepUpToken refuses the same forgeries", async () => {
    const forged = `${b64({ alg: "none", typ: "stepup+jwt", kid: key.kid })}.${b64(claims())}.`;
    expect(await outcome(verifyStepUpToken(forged, { jwks: jwksOf(key), ...expected }))).toBe(
      "TOKEN_INVALID",
    );
    expect(await outcome(verifyStepUpToken(await sign(key), { jwks: jwksOf(key), ...expected }))).toBe("ok");
  });
});
