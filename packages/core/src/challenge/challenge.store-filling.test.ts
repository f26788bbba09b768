// Threat: a signed-in attacker (or a buggy client) opening challenges in a loop, each keeping a
// large form, to fill the store (measured before: 300 POSTs with 60 KiB forms kept 300 challenges
// for 10 minutes, +60 MiB in one process); and a form kept at rest holding a password in clear.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, outcome, testEngine } from "../../test/helpers.js";
import { keys } from "../internal/keys.js";
import { MAX_OPEN_CHALLENGES } from "./challenges.js";

describe("challenges cannot be used to fill the store", () => {
  it("at most 20 open challenges per user: opening more drops the oldest, even 60 at once", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("a", "b");
    const opened = await Promise.all(
      Array.from({ length: 60 }, () => t.engine.openChallenge(alice, "s", rule)),
    );
    const ids = opened.map((o) => o.challenge.id);
    const stored = await t.store.getMany(alice.id, ids.map(keys.challenge));
    expect(stored.filter((v) => v !== null)).toHaveLength(MAX_OPEN_CHALLENGES);
    expect(await t.store.list(alice.id, keys.challenges)).toHaveLength(MAX_OPEN_CHALLENGES);
    // The newest still work; a dropped one is gone for good.
    const newest = ids.at(-1) ?? "";
    const code = await codeAt(t.clock.now());
    const dropped = ids.find((_, i) => stored[i] === null) ?? "";
    expect(await outcome(t.engine.challenges.verify(alice, "s", dropped, { factor: "totp", code }))).toBe(
      "CHALLENGE_NOT_FOUND",
    );
    expect(await outcome(t.engine.challenges.verify(alice, "s", newest, { factor: "totp", code }))).toBe(
      "ok",
    );
  });

  it("a form kept for re-submission is at most 16 KiB (413), and sealed at rest", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("account", "delete");
    const big = [["note", "x".repeat(16 * 1024)]] as const;
    expect(await outcome(t.engine.openChallenge(alice, "s", rule, { method: "POST", form: big }))).toBe(
      "PAYLOAD_TOO_LARGE",
    );
    const form = [
      ["password", "hunter2-correct-horse"],
      ["reason", "moving"],
    ] as const;
    const { challenge } = await t.engine.openChallenge(alice, "s", rule, { method: "POST", form });
    const [raw] = await t.store.getMany(alice.id, [keys.challenge(challenge.id)]);
    expect(raw).not.toContain("hunter2");
    expect(raw).toMatch(/"sealedForm":"v1\./);
    expect((await t.engine.challenges.load(alice.id, challenge.id)).form).toEqual(form);
    const result = await t.engine.challenges.verify(alice, "s", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    expect(result.challenge.form).toEqual(form);
  });

  it("a sealed form is bound to its challenge: moved to another challenge it does not open", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.rules.lookup("account", "delete");
    const one = await t.engine.openChallenge(alice, "s", rule, { method: "POST", form: [["a", "1"]] });
    const two = await t.engine.openChallenge(alice, "s", rule, { method: "POST" });
    const [rawOne, rawTwo] = await t.store.getMany(alice.id, [
      keys.challenge(one.challenge.id),
      keys.challenge(two.challenge.id),
    ]);
    const moved = { ...JSON.parse(rawTwo ?? "{}"), sealedForm: JSON.parse(rawOne ?? "{}").sealedForm };
    await t.store.set(alice.id, keys.challenge(two.challenge.id), JSON.stringify(moved), 600);
    expect((await t.engine.challenges.load(alice.id, two.challenge.id)).form).toBeUndefined();
  });
});
