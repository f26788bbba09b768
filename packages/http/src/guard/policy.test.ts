// The risk hook: ALLOW skips step-up where a step-up may be waived, BLOCK refuses outright, REVIEW
// still challenges; a hook that throws must not open the door (fail closed). Attack: a hook (or a
// bug in one) answering ALLOW for everything must not waive stepup's own actions, transaction
// rules or phishing-resistant rules.
import type { PolicyDecision } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

function guardWith(policy: () => PolicyDecision | Promise<PolicyDecision>) {
  const http = testHttp({ policy });
  return { http, guard: http.guard({ resource: "wire", action: "send" }) };
}

const request = () => new Request("http://localhost:3000/wire", { headers: { accept: "application/json" } });
const user = { id: "alice" };

describe("policy hook", () => {
  it("BLOCK: 403 step_up_blocked, never the handler", async () => {
    const { http, guard } = guardWith(() => "BLOCK");
    const outcome = await guard(request(), { user });
    expect(outcome).toMatchObject({ kind: "blocked", rule: { resource: "wire", action: "send" } });
    if (outcome.kind === "pass") return;
    const response = http.render(request(), outcome);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      error: "step_up_blocked",
      resource: "wire",
      action: "send",
    });
  });

  it("ALLOW: passes without a step-up, and says so (verifiedAt null)", async () => {
    const { guard } = guardWith(() => "ALLOW");
    expect(await guard(request(), { user })).toMatchObject({
      kind: "pass",
      stepUp: { verifiedAt: null, factor: null, resource: "wire" },
    });
  });

  it("ALLOW never waives stepup's own actions, transaction rules or phishing-resistant rules", async () => {
    const http = testHttp({ policy: () => "ALLOW" });
    const transfer = http.guard(
      { resource: "payment", action: "transfer", match: "transaction" },
      { transaction: () => ({ amount: 1 }) },
    );
    expect((await transfer(request(), { user }, { txn: "digest" })).kind).toBe("step-up-required");
    // Own actions: the engine refuses to remove a factor without a fresh step-up, hook or not
    // (before it even looks the id up).
    const own = http.engine.ownRules["factor.remove"];
    expect(await http.engine.factors.remove(user, "some-factor", undefined)).toEqual({ stepUpRequired: own });
    expect(await http.engine.decide({ user, sid: undefined, rule: own })).toMatchObject({
      outcome: "challenge",
    });
    const add = http.engine.ownRules["factor.add"];
    expect(await http.engine.decide({ user, sid: undefined, rule: add })).toMatchObject({
      outcome: "challenge",
    });
  });

  it("REVIEW and CHALLENGE: a normal challenge", async () => {
    for (const decision of ["REVIEW", "CHALLENGE"] as const) {
      const { guard } = guardWith(async () => decision);
      expect((await guard(request(), { user })).kind).toBe("step-up-required");
    }
  });

  it("a policy hook that throws fails closed: an error response, never a pass", async () => {
    const { http, guard } = guardWith(() => {
      throw new Error("risk service down");
    });
    const outcome = await guard(request(), { user });
    expect(outcome.kind).toBe("error");
    if (outcome.kind === "pass") return;
    const response = http.render(request(), outcome);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("risk service down");
  });
});
