// Threats: a lost authenticator locking the user out for good; a recovery code stolen from the
// database, used twice, raced, or guessed.
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import {
  alice,
  done,
  enrollAlice,
  fakeClock,
  gatedStore,
  outcome,
  stepUpAlice,
  testEngine,
} from "../../test/helpers.js";
import { keys } from "../internal/keys.js";
import { memoryStore } from "../store/memory-store.js";

async function useRecovery(t: ReturnType<typeof testEngine>, code: string, sid = "s") {
  const { challenge, factors } = await t.engine.openChallenge(alice, sid, t.engine.rules.lookup("a", "b"));
  const factorId = factors.find((f) => f.type === "recovery")?.id;
  return outcome(
    t.engine.challenges.verify(alice, sid, challenge.id, { factor: "recovery", factorId, code }),
  );
}

/** New recovery codes for alice: the codes, or the refusal's code. */
const regenerated = (t: ReturnType<typeof testEngine>, sid: string) =>
  t.engine.factors.regenerateRecoveryCodes(alice, sid).then(
    (r) => done(r).recoveryCodes,
    (e: unknown) => (e as { code?: string }).code,
  );

describe("recovery codes", () => {
  it("the first factor comes with 10 distinct codes of 80 random bits, shown once", async () => {
    const t = testEngine();
    const { recoveryCodes } = await enrollAlice(t);
    expect(recoveryCodes).toHaveLength(10);
    for (const c of recoveryCodes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(10);
    // A second factor (after a fresh step-up) does not issue (or replace) codes.
    const sid = await stepUpAlice(t);
    const second = done(await t.engine.factors.enrollStart(alice, "totp", {}, sid)) as {
      factorId: string;
      secret: string;
    };
    const code = await generate({ secret: second.secret, epoch: Math.floor(t.clock.now() / 1000) });
    const confirmed = done(
      await t.engine.factors.enrollConfirm(alice, "totp", second.factorId, { code }, sid),
    );
    expect(confirmed.recoveryCodes).toBeUndefined();
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(10);
  });

  it("codes are stored only as keyed hashes: the store never holds one in plain text", async () => {
    const t = testEngine();
    const { recoveryCodes } = await enrollAlice(t);
    const stored = JSON.stringify(await t.store.hashGetAll("alice", keys.plugin("recovery", "codes")));
    expect(stored).not.toBe("{}");
    for (const c of recoveryCodes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(c.replace(/-/g, ""));
    }
  });

  it("a code works once; typed in lower case, without dashes or with O for 0 it is the same code", async () => {
    const t = testEngine();
    const { recoveryCodes } = await enrollAlice(t);
    const [code = ""] = recoveryCodes;
    expect(await useRecovery(t, code.toLowerCase().replace(/-/g, "").replace(/0/g, "o"))).toBe("ok");
    expect(await useRecovery(t, code)).toBe("INVALID_CODE");
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(9);
    expect(t.events.some((e) => e.type === "recovery.used")).toBe(true);
  });

  it("20 concurrent uses of one code (on 20 challenges): exactly one succeeds", async () => {
    const t = testEngine({ limits: { perFactor: { max: 100, windowSeconds: 900 } } });
    const { recoveryCodes } = await enrollAlice(t);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => useRecovery(t, recoveryCodes[0] ?? "", `s${i}`)),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });

  it("guessing recovery codes is bounded like any factor: the 6th guess on a challenge is 429", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge, factors } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    const factorId = factors.find((f) => f.type === "recovery")?.id;
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const guess = `AAAA-AAAA-AAAA-AAA${i}`;
      results.push(
        await outcome(
          t.engine.challenges.verify(alice, "s", challenge.id, { factor: "recovery", factorId, code: guess }),
        ),
      );
    }
    // The challenge is spent (a new one starts fresh), not the user locked out.
    expect(results).toEqual([...Array(5).fill("INVALID_CODE"), "CHALLENGE_EXHAUSTED"]);
  });

  it("two regenerations at once (a double click, two tabs, two processes) leave one set of codes, not both", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const sid = await stepUpAlice(t);
    const regenerate = () => regenerated(t, sid);
    const answers = await Promise.all([regenerate(), regenerate()]);
    // One is issued; the other is refused (429, try again) rather than leaving its codes alive too
    // (it used to: 20 codes, both sets working, the user holding codes no response showed as theirs).
    expect(answers.filter((a) => a === "RATE_LIMITED")).toHaveLength(1);
    const issued = answers.find((a) => Array.isArray(a)) as string[];
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(10);
    expect(await useRecovery(t, issued[0] ?? "")).toBe("ok");
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(9);
    // Once it is done, a new regeneration works again (and replaces the set).
    const next = await regenerate();
    expect(Array.isArray(next)).toBe(true);
    expect(await useRecovery(t, issued[1] ?? "")).toBe("INVALID_CODE");
  });

  it("a regeneration whose lock release comes late (after the lock expired) does not unlock the next one", async () => {
    // A's release of the issuing lock is held up (a store call stuck in a reconnecting client)
    // until the lock has expired and B has taken it: A must free only its own lock, or C, started
    // while B writes its codes, would issue a third set alongside B's.
    const clock = fakeClock();
    const gated = gatedStore(memoryStore({ clock }));
    const t = testEngine({}, gated.store, clock);
    await enrollAlice(t);
    const sid = await stepUpAlice(t);
    const regenerate = () => regenerated(t, sid);
    const isLock = ([, keyList]: unknown[]) => [keyList].flat().some((k) => String(k).endsWith(":issuing"));
    const releaseA = gated.hold(["delete", "deleteIfEquals"], isLock);
    const a = regenerate();
    await releaseA.reached; // A has issued its codes; its release waits
    t.clock.advance(61_000); // past the lock's 60 s
    const writesB = gated.hold(["hashSet"], () => true);
    const b = regenerate();
    await writesB.reached; // B holds the lock and is writing its codes
    releaseA.open();
    expect(Array.isArray(await a)).toBe(true);
    expect(await regenerate()).toBe("RATE_LIMITED"); // C: B still holds the lock
    writesB.open();
    const issued = (await b) as string[];
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(10);
    expect(await useRecovery(t, issued[0] ?? "")).toBe("ok");
  });

  it("regenerating kills every old code; removing the last real factor removes the codes too", async () => {
    const t = testEngine();
    const { recoveryCodes, factorId } = await enrollAlice(t);
    // Both need a fresh step-up: without one, the engine says which rule to step up for.
    expect(await t.engine.factors.regenerateRecoveryCodes(alice, undefined)).toEqual({
      stepUpRequired: t.engine.ownRules["recovery.regenerate"],
    });
    expect(await t.engine.factors.remove(alice, factorId, "no-session")).toEqual({
      stepUpRequired: t.engine.ownRules["factor.remove"],
    });
    const sid = await stepUpAlice(t);
    const fresh = done(await t.engine.factors.regenerateRecoveryCodes(alice, sid)).recoveryCodes;
    expect(await useRecovery(t, recoveryCodes[1] ?? "")).toBe("INVALID_CODE");
    expect(await useRecovery(t, fresh[0] ?? "")).toBe("ok");
    done(await t.engine.factors.remove(alice, factorId, sid));
    expect(await t.engine.factors.list("alice")).toEqual([]);
    expect(await t.engine.factors.recoveryCodesRemaining("alice")).toBe(0);
  });
});
