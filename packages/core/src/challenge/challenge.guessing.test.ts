// Threat: an attacker holding the first-factor session guesses one-time codes, in bursts and in
// parallel, across challenges and from many accounts at once.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, outcome, testEngine, wrong } from "../../test/helpers.js";
import { totp } from "../factors/totp.js";

describe("bounded guessing", () => {
  it("50 concurrent wrong codes on one challenge: exactly 5 are evaluated, 45 get TOO_MANY_ATTEMPTS", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    const bad = wrong(await codeAt(t.clock.now()));
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: bad })),
      ),
    );
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(5);
    expect(results.filter((r) => r === "TOO_MANY_ATTEMPTS")).toHaveLength(45);
    // Once the challenge is exhausted even the right code is refused: the budget is per challenge.
    const right = await codeAt(t.clock.now());
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: right })),
    ).toBe("TOO_MANY_ATTEMPTS");
    expect(t.events.some((e) => e.type === "verification.locked")).toBe(true);
  });

  it("per user and factor across challenges: new challenges do not reset the 20-guess window", async () => {
    // Without recovery codes: with them, the user still has a way in and the guard shows the page.
    const t = testEngine({ factors: [totp()] });
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    const bad = wrong(await codeAt(t.clock.now()));
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { challenge } = await t.engine.openChallenge(alice, "s", rule);
      for (let j = 0; j < 5; j++) {
        results.push(
          await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: bad })),
        );
      }
    }
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(20);
    expect(results.slice(20).every((r) => r === "TOO_MANY_ATTEMPTS")).toBe(true);
    // The guard sees the lock-out too, with a Retry-After.
    const decision = await t.engine.decide(alice, "s", t.engine.rules.lookup("a", "b"));
    expect(decision).toMatchObject({ outcome: "challenge" });
    expect(decision.outcome === "challenge" && decision.retryAfter).toBeGreaterThan(0);
    // Retry-After is what is left of the window, not the whole window.
    t.clock.advance(600_000);
    const later = await t.engine.decide(alice, "s", t.engine.rules.lookup("a", "b"));
    expect(later.outcome === "challenge" && later.retryAfter).toBe(300);
    // The window is fixed: after it passes, guessing may resume.
    t.clock.advance(301_000);
    const { challenge } = await t.engine.openChallenge(alice, "s", rule);
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: bad })),
    ).toBe("INVALID_CODE");
  });

  it("per client address across users: one IP spraying many accounts is cut off", async () => {
    const t = testEngine({ limits: { perIp: { max: 3, windowSeconds: 60 } } });
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { challenge } = await t.engine.openChallenge(alice, `s${i}`, t.engine.rules.lookup("a", "b"));
      results.push(
        await outcome(
          t.engine.challenges.verify(
            alice,
            `s${i}`,
            challenge.id,
            { factor: "totp", code: bad },
            "203.0.113.9",
          ),
        ),
      );
    }
    expect(results).toEqual([
      "INVALID_CODE",
      "INVALID_CODE",
      "INVALID_CODE",
      "TOO_MANY_ATTEMPTS",
      "TOO_MANY_ATTEMPTS",
    ]);
  });

  it("malformed input is refused before it is counted (it cannot burn the user's budget)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    for (let i = 0; i < 10; i++) {
      await expect(
        t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: "x" }),
      ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    }
    const right = await codeAt(t.clock.now());
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: right })),
    ).toBe("ok");
  });
});
