// Policies through Express. Attacks: a user with no factor kept passing after the grace period
// (so the header must tell the client the deadline while it lasts), a user a policy denies reaching
// the handler, and a `details` function the hot path calls for nothing.
import { memoryStore, type PolicyOptions, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

function app(policy: PolicyOptions, details?: () => Record<string, unknown>) {
  let nowMs = Date.UTC(2026, 0, 5, 12);
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: (req) => (req.get("x-user") ? { id: String(req.get("x-user")) } : null),
    factors: [totp()],
    logger: { warn() {}, error() {} },
    clock: { now: () => nowMs },
    policy,
  });
  let ran = 0;
  const a = express();
  a.use("/stepup", stepup.router);
  a.get(
    "/reports",
    stepup.requireStepUp({ resource: "reports", action: "read", ...(details ? { details } : {}) }),
    (req, res) => {
      ran++;
      res.json({ enrollBy: req.stepUp?.enrollBy });
    },
  );
  return { app: a, ran: () => ran, advance: (ms: number) => (nowMs += ms) };
}

describe("requireStepUp and policies", () => {
  it("within a grace period: the handler runs, with Stepup-Enroll-By and req.stepUp.enrollBy; after it, 401", async () => {
    const t = app({ requirement: "REQUIRED", gracePeriodDays: 3 });
    const res = await request(t.app).get("/reports").set("x-user", "alice").set("accept", "application/json");
    expect(res.status).toBe(200);
    const deadline = new Date(Date.UTC(2026, 0, 8, 12)).toISOString();
    expect(res.headers["stepup-enroll-by"]).toBe(deadline);
    expect(res.body.enrollBy).toBe(deadline);
    t.advance(3 * 86_400_000 + 1);
    const after = await request(t.app)
      .get("/reports")
      .set("x-user", "alice")
      .set("accept", "application/json");
    expect(after.status).toBe(401);
    expect(after.headers["stepup-enroll-by"]).toBeUndefined();
    expect(t.ran()).toBe(1);
  });

  it('noFactor "deny": 403 enrollment_required with enrollUrl; the handler does not run', async () => {
    const t = app({ requirement: "REQUIRED", noFactor: "deny" });
    const res = await request(t.app).get("/reports").set("x-user", "alice").set("accept", "application/json");
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: "enrollment_required", enrollUrl: "/stepup/console" });
    expect(t.ran()).toBe(0);
  });

  it("details reach a when trigger, and are not computed for a policy that does not read them", async () => {
    let calls = 0;
    const details = () => {
      calls++;
      return { amount: 5000 };
    };
    const risky = app(
      { requirement: "RISK_BASED", triggers: { when: ({ details: d }) => Number(d?.amount) > 1000 } },
      details,
    );
    const res = await request(risky.app)
      .get("/reports")
      .set("x-user", "alice")
      .set("accept", "application/json");
    expect(res.status).toBe(401);
    expect(calls).toBe(1);
    const plain = app({ requirement: "REQUIRED", gracePeriodDays: 3 }, details);
    expect((await request(plain.app).get("/reports").set("x-user", "alice")).status).toBe(200);
    expect(calls).toBe(1);
  });

  it("a details option that is not a function throws at start-up", () => {
    const s = stepUp({
      store: memoryStore(),
      secret: "s".repeat(32),
      appName: "A",
      factors: [totp()],
      getUser: () => null,
    });
    expect(() => s.requireStepUp({ resource: "a", action: "b", details: { amount: 1 } as never })).toThrow(
      /`details`/,
    );
  });
});
