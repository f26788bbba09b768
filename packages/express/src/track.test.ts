// Threats: an app action recorded for the wrong user, or without the address it came from; a
// `track` call that answers before the event is stored (lost on a crash); a call without a
// signed-in user recorded as nobody. Real Express 5 through supertest.
import { memoryStore, type StepUpUser, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

function app() {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    factors: [totp()],
    getUser: (req): StepUpUser | null => {
      const id = req.get("x-user");
      return id ? { id } : null;
    },
    logger: { warn() {}, error() {} },
  });
  const a = express();
  a.set("trust proxy", "loopback");
  a.use(express.json());
  a.post("/payout", async (req, res, next) => {
    try {
      const event = await stepup.track(
        req,
        { tag: "payout.approved", severity: "high", metadata: { amount: req.body.amount } },
        { webhook: true },
      );
      res.json({ id: event.id });
    } catch (error) {
      next(error);
    }
  });
  a.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: error.name, message: error.message });
  });
  return { app: a, engine: stepup.http.engine };
}

describe("@stepup/express track()", () => {
  it("records the signed-in user's action with the client address, stored before the response", async () => {
    const t = app();
    const res = await request(t.app)
      .post("/payout")
      .set("x-user", "alice")
      .set("x-forwarded-for", "198.51.100.7")
      .send({ amount: 1200 });
    expect(res.status).toBe(200);
    // Read right after the response: no waiting, it is already in the log.
    const [entry] = await t.engine.audit.list("alice");
    expect(entry).toMatchObject({
      id: res.body.id,
      type: "track",
      tag: "payout.approved",
      status: "succeeded",
      severity: "high",
      userId: "alice",
      ip: "198.51.100.7",
      metadata: { amount: 1200 },
    });
    expect(await t.engine.audit.list("bob")).toEqual([]);
  });

  it("refuses a call without a signed-in user, and bad metadata, recording nothing", async () => {
    const t = app();
    const anonymous = await request(t.app).post("/payout").send({ amount: 1 });
    expect(anonymous.status).toBe(500);
    expect(anonymous.body.message).toMatch(/signed-in user/);
    const nested = await request(t.app)
      .post("/payout")
      .set("x-user", "alice")
      .send({ amount: { $gt: 0 } });
    expect(nested.body).toMatchObject({ error: "TypeError" });
    expect(nested.body.message).toMatch(/metadata\.amount/);
    expect(await t.engine.audit.list("alice")).toEqual([]);
  });
});
