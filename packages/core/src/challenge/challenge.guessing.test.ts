// Threat: an attacker holding the first-factor session (the password) guesses one-time codes: in
// bursts and in parallel, across challenges and factors, from many addresses, for a month.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, outcome, testEngine, wrong } from "../../test/helpers.js";
import { StepUpError } from "../errors.js";
import { totp } from "../factors/totp.js";

type T = ReturnType<typeof testEngine>;

async function guess(t: T, challengeId: string, code: string, ip?: string, sid = "s"): Promise<string> {
  return outcome(t.engine.challenges.verify(alice, sid, challengeId, { factor: "totp", code }, ip));
}

async function open(t: T, sid = "s"): Promise<string> {
  return (await t.engine.openChallenge(alice, sid, t.engine.rules.lookup("a", "b"))).challenge.id;
}

/** What a verify call threw (for its details), or undefined when it passed. */
async function failure(p: Promise<unknown>): Promise<StepUpError | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    if (error instanceof StepUpError) return error;
    throw error;
  }
}

describe("bounded guessing", () => {
  it("a month-long campaign gets at most 100 evaluated guesses, then the user is locked and told", async () => {
    // Before: fixed windows (20 per factor per 15 min) let one session try ~1,600 codes a day,
    // about a 10% chance of a hit in a month. The attacker here retries as soon as allowed.
    const t = testEngine({ factors: [totp()] });
    await enrollAlice(t);
    const end = t.clock.now() + 30 * 86_400_000;
    const bad = "000000";
    let evaluated = 0;
    let challenge = await open(t);
    let outcomeOf = "";
    for (let i = 0; i < 20_000 && t.clock.now() < end; i++) {
      const e = await failure(
        t.engine.challenges.verify(alice, "s", challenge, { factor: "totp", code: bad }),
      );
      outcomeOf = e?.code ?? "ok";
      if (outcomeOf === "INVALID_CODE") evaluated++;
      else if (outcomeOf === "CHALLENGE_EXHAUSTED" || outcomeOf === "CHALLENGE_NOT_FOUND")
        challenge = await open(t);
      else if (outcomeOf === "TOO_MANY_ATTEMPTS") t.clock.advance((e?.details.retryAfter ?? 1) * 1000);
      else if (outcomeOf === "USER_LOCKED") t.clock.advance(86_400_000);
      // A code that happens to be right (1 in 10^6 per step) would end the campaign: not this one.
      if (challenge && outcomeOf === "INVALID_CODE" && evaluated % 5 === 0) challenge = await open(t);
    }
    // The 100th evaluated guess locked the user (it answers USER_LOCKED, not INVALID_CODE).
    expect(evaluated).toBe(99);
    expect(outcomeOf).toBe("USER_LOCKED");
    expect(t.events.filter((e) => e.type === "lockout")).toHaveLength(1);
    // The guard says so too: nothing can be tried (no recovery codes in this engine).
    const decision = await t.engine.decide({ user: alice, sid: "s", rule: t.engine.rules.lookup("a", "b") });
    expect(decision).toMatchObject({ outcome: "locked", userLocked: true });
    // Even the right code is refused until an administrator unlocks the user.
    const right = await codeAt(t.clock.now());
    expect(await guess(t, await open(t), right)).toBe("USER_LOCKED");
    await t.engine.unlockUser(alice.id);
    expect(t.events.some((e) => e.type === "user.unlocked")).toBe(true);
    t.clock.advance(30_000);
    expect(await guess(t, await open(t), await codeAt(t.clock.now()))).toBe("ok");
  });

  it("growing delays after 10 consecutive failures (2 s, 4 s, 8 s ...); only a success resets them", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    for (let i = 0; i < 10; i++) {
      const id = await open(t);
      expect(await guess(t, id, bad)).toBe("INVALID_CODE");
    }
    // The 11th must wait 2 s after the 10th, the 12th 4 s after the 11th, the 13th 8 s.
    const attempt = async () =>
      failure(t.engine.challenges.verify(alice, "s", await open(t), { factor: "totp", code: bad }));
    for (const delay of [2, 4, 8]) {
      expect(await attempt()).toMatchObject({ code: "TOO_MANY_ATTEMPTS", details: { retryAfter: delay } });
      t.clock.advance(delay * 1000 - 1000);
      expect((await attempt())?.code).toBe("TOO_MANY_ATTEMPTS");
      t.clock.advance(1000);
      expect((await attempt())?.code).toBe("INVALID_CODE");
    }
    const later = await attempt();
    expect(later?.details.retryAfter).toBe(16);
    // A burst during a delay gets nothing evaluated and spends nothing.
    const burst = await Promise.all(Array.from({ length: 10 }, async () => guess(t, await open(t), bad)));
    expect(burst.every((r) => r === "TOO_MANY_ATTEMPTS")).toBe(true);
    t.clock.advance(16_000);
    expect(await guess(t, await open(t), await codeAt(t.clock.now()))).toBe("ok");
    // The success reset the count: the next mistakes are free again.
    t.clock.advance(30_000);
    expect(await guess(t, await open(t), bad)).toBe("INVALID_CODE");
    expect(await guess(t, await open(t), bad)).toBe("INVALID_CODE");
  });

  it("150 concurrent wrong guesses count 150 times: exactly 100 are evaluated and the lock happens once", async () => {
    const t = testEngine({
      factors: [totp()],
      limits: {
        perChallenge: 1000,
        perFactor: { max: 1000, windowSeconds: 900 },
        lockout: { delayAfter: 100 },
      },
    });
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const challenges = await Promise.all(Array.from({ length: 15 }, () => open(t)));
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => guess(t, challenges[i % 15] ?? "", bad)),
    );
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(99);
    expect(results.filter((r) => r === "USER_LOCKED")).toHaveLength(51);
    expect(
      t.events.filter((e) => e.type === "verification.failed" && e.metadata?.reason !== "USER_LOCKED"),
    ).toHaveLength(100);
    expect(t.events.filter((e) => e.type === "lockout")).toHaveLength(1);
  });

  it("50 concurrent wrong codes on one challenge: 5 are evaluated; the spent challenge is not a lockout", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const id = await open(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const results = await Promise.all(Array.from({ length: 50 }, () => guess(t, id, bad)));
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(5);
    expect(results.filter((r) => r === "CHALLENGE_EXHAUSTED" || r === "CHALLENGE_NOT_FOUND")).toHaveLength(
      45,
    );
    expect(
      t.events.some((e) => e.type === "verification.failed" && e.metadata?.reason === "CHALLENGE_EXHAUSTED"),
    ).toBe(true);
    // The exhausted challenge carries no Retry-After (nothing to wait for) and is gone.
    const again = await failure(t.engine.challenges.verify(alice, "s", id, { factor: "totp", code: bad }));
    expect(again?.code).toBe("CHALLENGE_NOT_FOUND");
    // Only 5 guesses reached the user's budgets: a new challenge with the right code works at once.
    expect(await guess(t, await open(t), await codeAt(t.clock.now()))).toBe("ok");
  });

  it("per user and factor across challenges: new challenges do not reset the 20-guess window", async () => {
    // Delays off here (delayAfter = cap), to see the window on its own.
    const t = testEngine({ factors: [totp()], limits: { lockout: { delayAfter: 100 } } });
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await open(t);
      for (let j = 0; j < 5; j++) results.push(await guess(t, id, bad));
    }
    expect(results.filter((r) => r === "INVALID_CODE")).toHaveLength(20);
    expect(results.slice(20).every((r) => r === "TOO_MANY_ATTEMPTS")).toBe(true);
    // The guard sees it too: the only factor is locked, with what is left of the window.
    const rule = t.engine.rules.lookup("a", "b");
    expect(await t.engine.decide({ user: alice, sid: "s", rule })).toMatchObject({
      outcome: "locked",
      userLocked: false,
      retryAfter: 900,
    });
    t.clock.advance(600_000);
    expect(await t.engine.decide({ user: alice, sid: "s", rule })).toMatchObject({ retryAfter: 300 });
    // The window is fixed: after it passes, guessing may resume.
    t.clock.advance(301_000);
    expect(await guess(t, await open(t), bad)).toBe("INVALID_CODE");
  });

  it("an address over its limit is refused without spending the user's budget (no lockout from elsewhere)", async () => {
    // Before: each refused attempt still counted against the user's factor, so 20 refusals from
    // the attacker's address locked the victim's factor for every address.
    const t = testEngine({ limits: { perIp: { max: 3, windowSeconds: 900 } } });
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const attacker = "203.0.113.9";
    const results: string[] = [];
    for (let i = 0; i < 40; i++) results.push(await guess(t, await open(t, `a${i}`), bad, attacker, `a${i}`));
    expect(results.slice(0, 3)).toEqual(["INVALID_CODE", "INVALID_CODE", "INVALID_CODE"]);
    expect(results.slice(3).every((r) => r === "TOO_MANY_ATTEMPTS")).toBe(true);
    // From her own address, the victim has 17 of 20 factor guesses left and no delay.
    const id = await open(t, "victim");
    const e = await failure(
      t.engine.challenges.verify(alice, "victim", id, { factor: "totp", code: bad }, "198.51.100.7"),
    );
    expect(e).toMatchObject({ code: "INVALID_CODE", details: { attemptsRemaining: 4 } });
    expect(await guess(t, id, await codeAt(t.clock.now()), "198.51.100.7", "victim")).toBe("ok");
  });

  it("per client address across users; every address of an IPv6 /64 counts as one client", async () => {
    const t = testEngine({ limits: { perIp: { max: 3, windowSeconds: 60 } } });
    await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    const rotating = ["2001:db8:7:1::1", "2001:db8:7:1::2", "2001:db8:7:1:ffff::3", "2001:db8:7:1::4"];
    const results: string[] = [];
    for (const [i, ip] of rotating.entries())
      results.push(await guess(t, await open(t, `s${i}`), bad, ip, `s${i}`));
    expect(results).toEqual(["INVALID_CODE", "INVALID_CODE", "INVALID_CODE", "TOO_MANY_ATTEMPTS"]);
    // Another /64 is another client.
    expect(await guess(t, await open(t, "x"), bad, "2001:db8:7:2::1", "x")).toBe("INVALID_CODE");
  });

  it("a locked user is offered only the recovery path; a recovery code ends the lock", async () => {
    const t = testEngine({ limits: { lockout: { maxFailures: 3, delayAfter: 3 } } });
    const { recoveryCodes } = await enrollAlice(t);
    const bad = wrong(await codeAt(t.clock.now()));
    for (let i = 0; i < 3; i++) await guess(t, await open(t), bad);
    const opened = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    expect(opened.userLocked).toBe(true);
    expect(opened.factors.map((f) => f.type)).toEqual(["recovery"]);
    expect(await guess(t, opened.challenge.id, await codeAt(t.clock.now()))).toBe("USER_LOCKED");
    const recovery = opened.factors[0]?.id;
    const used = await outcome(
      t.engine.challenges.verify(alice, "s", opened.challenge.id, {
        factor: "recovery",
        factorId: recovery,
        code: recoveryCodes[0],
      }),
    );
    expect(used).toBe("ok");
    t.clock.advance(30_000);
    expect(await guess(t, await open(t), await codeAt(t.clock.now()))).toBe("ok");
  });

  it("malformed input is refused before it is counted (it cannot burn the user's budget)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const id = await open(t);
    for (let i = 0; i < 10; i++) {
      await expect(
        t.engine.challenges.verify(alice, "s", id, { factor: "totp", code: "x" }),
      ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    }
    expect(await guess(t, id, await codeAt(t.clock.now()))).toBe("ok");
  });

  it("limits.lockout is validated at start-up (the cap is at most 100)", () => {
    expect(() => testEngine({ limits: { lockout: { maxFailures: 101 } } })).toThrow(
      /limits\.lockout\.maxFailures/,
    );
    expect(() => testEngine({ limits: { lockout: { maxDelaySeconds: 0 } } })).toThrow(/maxDelaySeconds/);
  });
});
