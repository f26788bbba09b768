// The adapter only translates: these tests drive real Express 5 through supertest.
import { memoryStore, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

function app() {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: (req) => (req.get("x-user") ? { id: String(req.get("x-user")) } : null),
    factors: [totp()],
    logger: { warn() {}, error() {} },
  });
  let ran = 0;
  const a = express();
  a.use(express.urlencoded({ extended: false }), express.json());
  a.use("/stepup", stepup.router);
  a.post(
    "/account/delete",
    stepup.requireStepUp({ resource: "account", action: "delete", maxAge: 300 }),
    (req, res) => {
      ran++;
      res.json({ deleted: true, verifiedAt: req.stepUp?.verifiedAt });
    },
  );
  a.use(stepup.errorHandler);
  return { app: a, ran: () => ran };
}

describe("@stepup/express", () => {
  it("requires getUser at start-up, naming the option", () => {
    expect(() =>
      stepUp({ store: memoryStore(), secret: "s".repeat(32), appName: "A", factors: [totp()] } as never),
    ).toThrow(/`getUser`/);
  });

  it("an unknown resource option throws at start-up, not at the first request", () => {
    const s = stepUp({
      store: memoryStore(),
      secret: "s".repeat(32),
      appName: "A",
      factors: [totp()],
      getUser: () => null,
    });
    expect(() => s.requireStepUp({ resource: "bad name!", action: "x" })).toThrow(/resource/);
    expect(() => s.requireStepUp({ resource: "a", action: "b", maxAge: 0 })).toThrow(/maxAge/);
  });

  it("no user: 401 unauthenticated; the handler does not run", async () => {
    const t = app();
    const res = await request(t.app).post("/account/delete").set("accept", "application/json");
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.error).toBe("unauthenticated");
    expect(t.ran()).toBe(0);
  });

  it("not fresh: 401 step_up_required with a challenge and a step-up cookie; the handler does not run", async () => {
    const t = app();
    const res = await request(t.app)
      .post("/account/delete")
      .set("x-user", "alice")
      .set("accept", "application/json");
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      error: "step_up_required",
      resource: "account",
      action: "delete",
      maxAge: 300,
    });
    expect(res.body.challengeUrl).toBe(`/stepup/challenge/${res.body.challengeId}`);
    expect(res.headers["set-cookie"]?.[0]).toMatch(/^stepup=Fe26/);
    expect(t.ran()).toBe(0);
  });

  it("a body the app's parser cannot read under /stepup becomes problem+json, not an HTML stack trace", async () => {
    const t = app();
    const res = await request(t.app)
      .post("/stepup/api/challenges")
      .set("x-user", "alice")
      .set("content-type", "application/json")
      .send("{not json");
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it("the router serves the JSON API with a parsed body (re-encoded from req.body)", async () => {
    const t = app();
    const res = await request(t.app)
      .post("/stepup/api/challenges")
      .set("x-user", "alice")
      .send({ resource: "account", action: "delete" });
    expect(res.status).toBe(201);
    expect(res.body.challengeId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("an async getUser is awaited (a promise is never taken for a user)", async () => {
    const stepup = stepUp({
      store: memoryStore(),
      secret: "s".repeat(32),
      appName: "Acme",
      getUser: async (req) => (req.get("x-user") ? { id: String(req.get("x-user")) } : null),
      factors: [totp()],
      logger: { warn() {}, error() {} },
    });
    const a = express();
    a.get(
      "/r",
      stepup.requireStepUp({ resource: "admin", action: "read" }),
      (_req, res) => void res.json({ ok: true }),
    );
    expect((await request(a).get("/r").set("accept", "application/json")).body.error).toBe("unauthenticated");
    const res = await request(a).get("/r").set("x-user", "alice").set("accept", "application/json");
    expect(res.body.error).toBe("step_up_required");
  });
});
