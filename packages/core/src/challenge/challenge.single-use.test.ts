// Threat: a code or challenge used twice: replay of an observed code, a double-submitted form,
// or a race of parallel submissions of one valid code.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, outcome, testEngine } from "../../test/helpers.js";

describe("single use", () => {
  it("20 concurrent submissions of one valid code: exactly one succeeds", async () => {
    const t = testEngine({ limits: { perChallenge: 50, perFactor: { max: 100, windowSeconds: 900 } } });
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    // Twenty challenges, so the only thing stopping the others is the time-step marker.
    const challenges = await Promise.all(
      Array.from({ length: 20 }, () => t.engine.openChallenge(alice, "s", rule)),
    );
    const code = await codeAt(t.clock.now());
    const results = await Promise.all(
      challenges.map(({ challenge }) =>
        outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code })),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(19);
    expect(t.events.filter((e) => e.metadata?.reason === "REPLAYED")).toHaveLength(19);
  });

  it("a code accepted once is refused on a new challenge within its window (replay)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    const code = await codeAt(t.clock.now());
    const first = await t.engine.openChallenge(alice, "s", rule);
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", first.challenge.id, { factor: "totp", code })),
    ).toBe("ok");
    t.clock.advance(10_000);
    const second = await t.engine.openChallenge(alice, "s", rule);
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", second.challenge.id, { factor: "totp", code })),
    ).toBe("INVALID_CODE");
  });

  it("a challenge is consumed by its success: the next code on it is CHALLENGE_NOT_FOUND", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    await t.engine.challenges.verify(alice, "s", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    t.clock.advance(30_000);
    expect(
      await outcome(
        t.engine.challenges.verify(alice, "s", challenge.id, {
          factor: "totp",
          code: await codeAt(t.clock.now()),
        }),
      ),
    ).toBe("CHALLENGE_NOT_FOUND");
  });

  it("a challenge opened in one step-up session cannot be completed from another", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(
      alice,
      "victim-session",
      t.engine.rules.lookup("a", "b"),
    );
    const code = await codeAt(t.clock.now());
    expect(
      await outcome(
        t.engine.challenges.verify(alice, "attacker-session", challenge.id, { factor: "totp", code }),
      ),
    ).toBe("CHALLENGE_SESSION_MISMATCH");
  });

  it("a challenge of one user is not found for another user", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    const mallory = { id: "mallory" };
    expect(
      await outcome(
        t.engine.challenges.verify(mallory, "s", challenge.id, { factor: "totp", code: "123456" }),
      ),
    ).toBe("CHALLENGE_NOT_FOUND");
  });

  it("a challenge expires after challengeTtl", async () => {
    const t = testEngine({ challengeTtl: 60 });
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    t.clock.advance(61_000);
    expect(
      await outcome(
        t.engine.challenges.verify(alice, "s", challenge.id, {
          factor: "totp",
          code: await codeAt(t.clock.now()),
        }),
      ),
    ).toBe("CHALLENGE_NOT_FOUND");
  });
});
