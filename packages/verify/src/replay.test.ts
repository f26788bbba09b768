import { beforeAll, describe, expect, it } from "vitest";
import { claims, expected, jwksOf, newKey, sign, type TestKey } from "../test/helpers.js";
import { StepUpTokenError } from "./errors.js";
import { memoryReplayCache, type ReplayCache } from "./replay.js";
import { createStepUpVerifier } from "./verify.js";

let key: TestKey;
beforeAll(async () => {
  key = await newKey();
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof StepUpTokenError ? e.code : `not a StepUpTokenError: ${String(e)}`),
  );

const verifierWith = (replay: ReplayCache) =>
  createStepUpVerifier({ jwks: jwksOf(key), ...expected, replay });

describe("replayed tokens", () => {
  it("a token captured once (a log, a proxy) and replayed is refused the second time", async () => {
    const verifier = verifierWith(memoryReplayCache());
    const token = await sign(key);
    expect(await outcome(verifier.verify(token))).toBe("ok");
    expect(await outcome(verifier.verify(token))).toBe("REPLAYED");
    expect(await outcome(verifier.verify(await sign(key)))).toBe("ok"); // another jti
  });

  it("20 concurrent uses of one token: exactly one passes", async () => {
    const verifier = verifierWith(memoryReplayCache());
    const token = await sign(key);
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(verifier.verify(token))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "REPLAYED")).toHaveLength(19);
  });

  it("an invalid token does not burn its jti (only a fully verified token is recorded)", async () => {
    const verifier = verifierWith(memoryReplayCache());
    const jti = "same-id";
    expect(await outcome(verifier.verify(await sign(key, claims({ jti, scope: "x:y" }))))).toBe(
      "WRONG_SCOPE",
    );
    expect(await outcome(verifier.verify(await sign(key, claims({ jti }))))).toBe("ok");
  });

  it("ids are kept until the token expires plus the tolerance, then forgotten", async () => {
    let nowMs = Date.now();
    const cache = memoryReplayCache({ clock: { now: () => nowMs }, maxEntries: 2 });
    const exp = Math.floor(nowMs / 1000) + 60;
    expect(await cache.seen("a", exp)).toBe(true);
    expect(await cache.seen("a", exp)).toBe(false);
    expect(await cache.seen("b", exp)).toBe(true);
    // Full: fail closed rather than forget a live id.
    await expect(cache.seen("c", exp)).rejects.toThrow(/full/);
    nowMs += 61_000;
    expect(await cache.seen("c", exp + 120)).toBe(true); // the expired ones were swept
    expect(await cache.seen("a", exp + 120)).toBe(true);
  });

  it("a failing shared cache (Redis down) refuses the token: REPLAY_UNAVAILABLE, fail closed", async () => {
    const down: ReplayCache = { seen: () => Promise.reject(new Error("ECONNREFUSED")) };
    const error = await verifierWith(down)
      .verify(await sign(key))
      .catch((e: StepUpTokenError) => e);
    expect(error).toBeInstanceOf(StepUpTokenError);
    expect((error as StepUpTokenError).code).toBe("REPLAY_UNAVAILABLE");
    expect((error as StepUpTokenError).status).toBe(503);
  });

  it("the cache is told the token's exp plus the clock tolerance", async () => {
    const calls: [string, number][] = [];
    const spy: ReplayCache = {
      async seen(jti, until) {
        calls.push([jti, until]);
        return true;
      },
    };
    const payload = claims();
    await verifierWith(spy).verify(await sign(key, payload));
    expect(calls).toEqual([[payload.jti, (payload.exp as number) + 5]]);
  });
});
