import { afterEach, describe, expect, it } from "vitest";
import { claims, expected, json, jwksOf, newKey, serve, sign } from "../test/helpers.js";
import { StepUpTokenError } from "./errors.js";
import { createStepUpVerifier, verifyStepUpToken } from "./verify.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function jwksServer(handle: Parameters<typeof serve>[0]) {
  const server = await serve(handle);
  closers.push(server.close);
  return server;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as StepUpTokenError,
  );

describe("the issuer's JWKS over HTTP (a real node:http server)", () => {
  it("fetches it once and verifies against it (cached across tokens)", async () => {
    const key = await newKey();
    const server = await jwksServer((_req, res) => json(res, jwksOf(key)));
    const verifier = createStepUpVerifier({ jwksUrl: server.url, ...expected });
    for (let i = 0; i < 3; i++) expect((await verifier.verify(await sign(key))).sub).toBe("alice");
    expect(server.requests).toEqual(["/stepup/.well-known/jwks.json"]);
  });

  it("unreachable: nothing listens there -> JWKS_UNAVAILABLE (never TOKEN_INVALID)", async () => {
    const key = await newKey();
    const server = await serve((_req, res) => json(res, jwksOf(key)));
    await server.close(); // the port is now closed
    const error = await refusal(
      createStepUpVerifier({ jwksUrl: server.url, ...expected }).verify(await sign(key)),
    );
    expect(error).toBeInstanceOf(StepUpTokenError);
    expect(error?.code).toBe("JWKS_UNAVAILABLE");
    expect(error?.status).toBe(503);
    expect(error?.cause).toBeDefined();
  });

  it("slow: a server that never answers is cut off at jwksTimeoutMs -> JWKS_UNAVAILABLE", async () => {
    const key = await newKey();
    const server = await jwksServer(() => {}); // holds every request open
    const verifier = createStepUpVerifier({ jwksUrl: server.url, ...expected, jwksTimeoutMs: 200 });
    const started = Date.now();
    const error = await refusal(verifier.verify(await sign(key)));
    expect(error?.code).toBe("JWKS_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a failing server (500, not JSON, not a key set) -> JWKS_UNAVAILABLE", async () => {
    const key = await newKey();
    const token = await sign(key);
    const answers = [
      (res: Parameters<typeof json>[0]) => json(res, { error: "down" }, 500),
      (res: Parameters<typeof json>[0]) => res.writeHead(200).end("<html>maintenance</html>"),
      (res: Parameters<typeof json>[0]) => json(res, { not: "a key set" }),
    ];
    for (const answer of answers) {
      const server = await jwksServer((_req, res) => answer(res));
      const error = await refusal(createStepUpVerifier({ jwksUrl: server.url, ...expected }).verify(token));
      expect(error?.code).toBe("JWKS_UNAVAILABLE");
    }
  });

  it("recovers once the JWKS is back (a failure is not cached)", async () => {
    const key = await newKey();
    let up = false;
    const server = await jwksServer((_req, res) => (up ? json(res, jwksOf(key)) : json(res, {}, 503)));
    const verifier = createStepUpVerifier({ jwksUrl: server.url, ...expected });
    const token = await sign(key);
    expect((await refusal(verifier.verify(token)))?.code).toBe("JWKS_UNAVAILABLE");
    up = true;
    expect((await verifier.verify(token)).sub).toBe("alice");
  });

  it("key rotation: with two keys published, tokens of both verify; a new kid is fetched", async () => {
    const [oldKey, newer, later] = [await newKey(), await newKey(), await newKey()];
    let published = jwksOf(newer, oldKey);
    const server = await jwksServer((_req, res) => json(res, published));
    const verifier = createStepUpVerifier({ jwksUrl: server.url, ...expected });
    expect((await verifier.verify(await sign(oldKey))).sub).toBe("alice");
    expect((await verifier.verify(await sign(newer))).sub).toBe("alice");
    expect(server.requests).toHaveLength(1);
    // The issuer rotates again: an unknown kid refetches (at most every 30 s), then verifies.
    published = jwksOf(later, newer);
    const forLater = await sign(later);
    // Within 30 s of the last fetch the unknown kid is refused without a refetch (no fetch storm)...
    expect((await refusal(verifier.verify(forLater)))?.code).toBe("TOKEN_INVALID");
    expect(server.requests).toHaveLength(1);
    // ...a fresh verifier (or one past the cooldown) fetches the new set and accepts it.
    const fresh = createStepUpVerifier({ jwksUrl: server.url, ...expected });
    expect((await fresh.verify(forLater)).sub).toBe("alice");
  });

  it("an unknown kid against a reachable JWKS is TOKEN_INVALID, not JWKS_UNAVAILABLE", async () => {
    const [published, stranger] = [await newKey(), await newKey()];
    const server = await jwksServer((_req, res) => json(res, jwksOf(published)));
    const error = await refusal(
      createStepUpVerifier({ jwksUrl: server.url, ...expected }).verify(await sign(stranger)),
    );
    expect(error?.code).toBe("TOKEN_INVALID");
  });

  it("an alg none token never makes the verifier fetch the JWKS", async () => {
    const key = await newKey();
    const server = await jwksServer((_req, res) => json(res, jwksOf(key)));
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const forged = `${b64({ alg: "none", typ: "stepup+jwt", kid: key.kid })}.${b64(claims())}.`;
    const error = await refusal(verifyStepUpToken(forged, { jwksUrl: server.url, ...expected }));
    expect(error?.code).toBe("TOKEN_INVALID");
    expect(server.requests).toHaveLength(0);
  });

  it("verifyStepUpToken keeps one cached key set per address across calls", async () => {
    const key = await newKey();
    const server = await jwksServer((_req, res) => json(res, jwksOf(key)));
    for (let i = 0; i < 3; i++) {
      const got = await verifyStepUpToken(await sign(key), { jwksUrl: server.url, ...expected });
      expect(got.sub).toBe("alice");
    }
    expect(server.requests).toHaveLength(1);
    // Each call's own checks still apply (they are not the first call's).
    const error = await refusal(
      verifyStepUpToken(await sign(key), { jwksUrl: server.url, ...expected, audience: "reports" }),
    );
    expect(error?.code).toBe("WRONG_AUDIENCE");
  });

  it("verifyStepUpToken keeps at most 32 key sets: callers with ever new addresses cannot grow the process", async () => {
    const key = await newKey();
    const server = await jwksServer((_req, res) => json(res, jwksOf(key)));
    const token = await sign(key);
    // The cache is per address and timeout: 33 timeouts are 33 key sets of one server.
    const call = (timeoutMs: number) =>
      verifyStepUpToken(token, { jwksUrl: server.url, ...expected, jwksTimeoutMs: timeoutMs });
    await call(1000);
    await call(1000);
    expect(server.requests).toHaveLength(1); // kept
    for (let t = 1001; t <= 1032; t++) await call(t);
    expect(server.requests).toHaveLength(33);
    await call(1000); // pushed out by the 32 newer ones: fetched again
    expect(server.requests).toHaveLength(34);
  });
});
