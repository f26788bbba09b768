// Threats: the sign-in second factor completed twice (a replayed completion logs a second
// browser in), completed from another browser (the attacker's, holding only the password), or
// skipped without a real trusted device.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, testEngine } from "../../test/helpers.js";

type T = ReturnType<typeof testEngine>;

async function prove(t: T, sid: string, challengeId: string, rememberDevice = false) {
  const result = await t.engine.challenges.verify(alice, sid, challengeId, {
    factor: "totp",
    code: await codeAt(t.clock.now()),
    rememberDevice,
  });
  t.clock.advance(30_000);
  return result;
}

describe("sign-in second factor", () => {
  it("a user with no factor signs in at once", async () => {
    const t = testEngine();
    expect(await t.engine.signIn.begin(alice)).toMatchObject({ outcome: "complete", reason: "no-factor" });
  });

  it("a user with a factor proves it; completion works once, then never again", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const begun = await t.engine.signIn.begin(alice, { returnTo: "/login/complete" });
    if (begun.outcome !== "challenge") throw new Error("expected a challenge");
    expect(begun.opened.challenge).toMatchObject({
      resource: "session",
      action: "sign-in",
      returnTo: "/login/complete",
    });
    // Not yet proved: nothing, and the pending sign-in is not burned by the early call.
    expect(await t.engine.signIn.complete(alice.id, begun.sid, begun.signInId)).toBe(false);
    const { sid } = await prove(t, begun.sid, begun.opened.challenge.id);
    const results = await Promise.all(
      [1, 2, 3].map(() => t.engine.signIn.complete(alice.id, sid, begun.signInId)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await t.engine.signIn.complete(alice.id, sid, begun.signInId)).toBe(false);
  });

  it("cannot be completed from another browser (another step-up session)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const begun = await t.engine.signIn.begin(alice);
    if (begun.outcome !== "challenge") throw new Error("expected a challenge");
    await prove(t, begun.sid, begun.opened.challenge.id);
    expect(await t.engine.signIn.complete(alice.id, "another-browser-session", begun.signInId)).toBe(false);
    expect(await t.engine.signIn.complete(alice.id, undefined, begun.signInId)).toBe(false);
  });

  it("a trusted device skips it; a forged device cookie does not", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const first = await t.engine.signIn.begin(alice);
    if (first.outcome !== "challenge") throw new Error("expected a challenge");
    const { device } = await prove(t, first.sid, first.opened.challenge.id, true);
    expect(await t.engine.signIn.begin(alice, { device: device.value })).toMatchObject({
      outcome: "complete",
      reason: "trusted-device",
    });
    // One character changed (never the same one: a base64url token may already end in "A").
    const forged = `${device.value.slice(0, -1)}${device.value.endsWith("A") ? "E" : "A"}`;
    expect(await t.engine.signIn.begin(alice, { device: forged })).toMatchObject({
      outcome: "challenge",
    });
  });

  it("a policy hook's BLOCK refuses the sign-in rather than letting the password alone through", async () => {
    const t = testEngine({
      policy: { decide: ({ rule }) => (rule.resource === "session" ? "BLOCK" : "CHALLENGE") },
    });
    await enrollAlice(t);
    expect(await t.engine.signIn.begin(alice)).toEqual({ outcome: "blocked" });
  });
});
