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

  it("a configured rule key must be resource:action", () => {
    expect(() => testEngine({ rules: { "a:b:c": {} } })).toThrow(/rules\["a:b:c"\]/);
  });

  it("stepup's own rules can be configured (e.g. passkeys only to remove a factor)", () => {
    const t = testEngine({ rules: { "stepup:factor.remove": { maxAge: 60 } } });
    expect(t.engine.ownRules["factor.remove"]).toMatchObject({ resource: "stepup", maxAge: 60 });
    expect(t.engine.ownRules["factor.add"]).toMatchObject({ resource: "stepup", maxAge: 300 });
  });
});
