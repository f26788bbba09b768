// Misconfigurations that used to surface late or never: a guard without resource/action; a
// transaction rule without the details to bind (the step-up succeeded, then the route answered 401
// for ever); a level no configured factor reaches; the router mounted away from `basePath` (a bare
// 404 "No such endpoint." with no hint). Each now fails at start-up (or the first call), naming the fix.
import { memoryStore, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

function make(extra: Record<string, unknown> = {}, logged: string[] = []) {
  return stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: () => ({ id: "u1" }),
    factors: [totp()],
    logger: { warn: (m) => void logged.push(m), error: (m) => void logged.push(m) },
    ...extra,
  });
}

describe("misconfiguration is caught at start-up, naming the fix", () => {
  it("requireStepUp() without resource or action", () => {
    const stepup = make();
    expect(() => stepup.requireStepUp({} as never)).toThrow(/requireStepUp needs `resource` and `action`/);
    expect(() => stepup.requireStepUp({ resource: "account" } as never)).toThrow(/`resource` and `action`/);
    expect(() => stepup.requireStepUp(undefined as never)).toThrow(/`resource` and `action`/);
  });

  it('match: "transaction" without a transaction function, and a transaction function without the match', () => {
    const stepup = make();
    expect(() =>
      stepup.requireStepUp({ resource: "payment", action: "transfer", match: "transaction" }),
    ).toThrow(/match "transaction" but no `transaction` function/);
    const configured = make({ rules: { "payment:send": { match: "transaction" } } });
    expect(() => configured.requireStepUp({ resource: "payment", action: "send" })).toThrow(
      /no `transaction` function/,
    );
    expect(() =>
      stepup.requireStepUp({ resource: "data", action: "export", transaction: () => ({}) }),
    ).toThrow(/set match: "transaction"/);
  });

  it("a rule demanding phishing-resistant proof with no WebAuthn factor configured", () => {
    const stepup = make();
    expect(() =>
      stepup.requireStepUp({ resource: "vault", action: "open", level: "phishing-resistant" }),
    ).toThrow(/none of its factors reach it \(add webauthn/);
  });

  it("the router mounted at another path than basePath: a 404 that says how to fix it, logged once", async () => {
    const logged: string[] = [];
    const stepup = make({}, logged);
    const app = express();
    app.use("/auth", stepup.router);
    const res = await request(app).get("/auth/api/factors");
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatch(/configured for \/stepup but mounted elsewhere.*`basePath`/);
    await request(app).get("/auth/api/factors");
    expect(logged.filter((m) => m.includes("outside its basePath /stepup"))).toHaveLength(1);
    // Mounted where configured, the same router answers.
    const right = express();
    right.use("/auth", make({ basePath: "/auth" }).router);
    expect((await request(right).get("/auth/api/factors")).status).toBe(200);
  });
});
