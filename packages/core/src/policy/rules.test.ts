// Threat: two places declaring one rule differently (a configured rule and a guard, or two
// guards), so that the guard and `POST /api/challenges` ask for different things and whichever
// was declared first silently wins.
import { describe, expect, it } from "vitest";
import { testEngine } from "../../test/helpers.js";

describe("one rule per resource:action", () => {
  it("a guard that disagrees with a configured rule throws at start-up, naming the rule", () => {
    const t = testEngine({ rules: { "account:delete": { maxAge: 300 } } });
    expect(() => t.engine.declareRule("account", "delete", { maxAge: 600 })).toThrow(
      /"account:delete" is declared twice with different options/,
    );
  });

  it("two guards on one pair with different options throw; the same options are fine", () => {
    const t = testEngine();
    const first = t.engine.declareRule("data", "export", { maxAge: 300, match: "action" });
    expect(t.engine.declareRule("data", "export", { maxAge: 300, match: "action" })).toBe(first);
    expect(() => t.engine.declareRule("data", "export", { maxAge: 300 })).toThrow(TypeError);
  });

  it("a guard naming a configured rule without options gets that rule; the API looks up the same", () => {
    const t = testEngine({ rules: { "account:delete": { maxAge: 120, match: "action" } } });
    const rule = t.engine.declareRule("account", "delete");
    expect(rule).toMatchObject({ maxAge: 120, match: "action" });
    expect(t.engine.rules.lookup("account", "delete")).toBe(rule);
  });

  it("the label is part of the rule: a guard may inherit it, not contradict it", () => {
    const t = testEngine({ rules: { "admin:read": { label: "open the admin panel" } } });
    expect(t.engine.declareRule("admin", "read")).toMatchObject({ label: "open the admin panel" });
    expect(t.engine.declareRule("admin", "read", { label: "open the admin panel" }).label).toBe(
      "open the admin panel",
    );
    expect(() => t.engine.declareRule("admin", "read", { label: "read the admin logs" })).toThrow(
      /declared twice with different options.*label "open the admin panel"/,
    );
    const other = testEngine();
    other.engine.declareRule("data", "export");
    expect(() => other.engine.declareRule("data", "export", { label: "export your data" })).toThrow(
      TypeError,
    );
  });

  it("a challenge carries its rule's label; the API's lookup of the pair gets it too", async () => {
    const t = testEngine({ rules: { "admin:read": { label: "open the admin panel" } } });
    const rule = t.engine.rules.lookup("admin", "read");
    const opened = await t.engine.openChallenge({ id: "alice" }, "s0", rule);
    expect(opened.challenge.label).toBe("open the admin panel");
    const plain = await t.engine.openChallenge({ id: "alice" }, "s0", t.engine.rules.lookup("a", "b"));
    expect(plain.challenge).not.toHaveProperty("label");
  });

  it("a configured rule key must be resource:action", () => {
    expect(() => testEngine({ rules: { "a:b:c": {} } })).toThrow(/rules\["a:b:c"\]/);
  });

  it("stepup's own rules can be configured (e.g. passkeys only to remove a factor)", () => {
    const t = testEngine({ rules: { "stepup:factor.remove": { maxAge: 60 } } });
    expect(t.engine.ownRules["factor.remove"]).toMatchObject({ resource: "stepup", maxAge: 60 });
    expect(t.engine.ownRules["factor.add"]).toMatchObject({
      resource: "stepup",
      maxAge: 300,
      label: "add a verification method",
    });
  });
});
