// The risk hook: ALLOW skips step-up, BLOCK refuses outright, REVIEW still challenges; a hook that
// throws must not open the door (fail closed).
import type { PolicyDecision } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

function guardWith(policy: () => PolicyDecision | Promise<PolicyDecision>) {
  const http = testHttp({ policy });
  return http.guard({ resource: "wire", action: "send" });
}

const request = () => new Request("http://localhost:3000/wire", { headers: { accept: "application/json" } });
const user = { id: "alice" };

describe("policy hook", () => {
  it("BLOCK: 403 step_up_blocked, never the handler", async () => {
    const result = await guardWith(() => "BLOCK")(request(), { user });
    expect(result.pass).toBe(false);
    if (result.pass) return;
    expect(result.response.status).toBe(403);
    expect(await result.response.json()).toMatchObject({
      error: "step_up_blocked",
      resource: "wire",
      action: "send",
    });
  });

  it("ALLOW: passes without a step-up, and says so (verifiedAt null)", async () => {
    const result = await guardWith(() => "ALLOW")(request(), { user });
    expect(result).toMatchObject({
      pass: true,
      stepUp: { verifiedAt: null, factor: null, resource: "wire" },
    });
  });

  it("REVIEW and CHALLENGE: a normal challenge", async () => {
    for (const decision of ["REVIEW", "CHALLENGE"] as const) {
      const result = await guardWith(async () => decision)(request(), { user });
      expect(result.pass).toBe(false);
      if (!result.pass) expect((await result.response.json()).error).toBe("step_up_required");
    }
  });

  it("a policy hook that throws fails closed: an error response, never a pass", async () => {
    const result = await guardWith(() => {
      throw new Error("risk service down");
    })(request(), { user });
    expect(result.pass).toBe(false);
    if (result.pass) return;
    expect(result.response.status).toBe(500);
    expect(await result.response.text()).not.toContain("risk service down");
  });
});
