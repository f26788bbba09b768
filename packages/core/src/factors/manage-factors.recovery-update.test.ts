// Threat: someone holding a user's session (a stolen password, no second factor) renames the
// recovery-codes record or makes it the primary factor: PATCH api/factors/<id> and the console's
// rename and "make primary" forms need no step-up. Made primary, recovery codes were offered first
// on every challenge page and the user's real factor lost its primary mark; the API answered a
// factor of type `recovery`, which its own document says it never lists (found by the fuzzer,
// test/fuzz.next.test.ts, checking responses against the OpenAPI document). Recovery codes are a
// count, not a factor the user manages: updating them is factor_not_found, like the listing says.
import { describe, expect, it } from "vitest";
import { alice, enrollAlice, testEngine } from "../../test/helpers.js";

describe("recovery codes are not a factor to rename or make primary", () => {
  it("update() refuses the recovery record (factor_not_found) and leaves every factor as it was", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const before = await t.engine.factors.list("alice");
    const recovery = before.find((f) => f.type === "recovery");
    const real = before.find((f) => f.type !== "recovery");
    expect(recovery && real).toBeTruthy();
    for (const input of [{ primary: true }, { name: "Mine now" }, { name: "x", primary: true }]) {
      await expect(t.engine.factors.update(alice.id, recovery?.id, input)).rejects.toMatchObject({
        code: "FACTOR_NOT_FOUND",
      });
    }
    expect(await t.engine.factors.list("alice")).toEqual(before);
    expect(t.events.some((e) => e.type === "factor.updated")).toBe(false);
  });

  it("a real factor is still renamed and made primary", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const real = (await t.engine.factors.list("alice")).find((f) => f.type !== "recovery");
    const updated = await t.engine.factors.update(alice.id, real?.id, { name: "Phone", primary: true });
    expect(updated).toMatchObject({ id: real?.id, name: "Phone", primary: true });
  });
});
