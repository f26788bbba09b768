// Attack: a deeply nested JSON body. `express.json()` parses 20,000 nested arrays without trouble
// (JSON.parse is iterative), but code that walks the value recursively (re-encoding it for the
// stepup router, a transaction's canonical digest) overflows the stack: the request ended as a 500
// with Express's HTML error page (and a stack trace in development). It must be a 400 problem+json
// `invalid_input`, whether the app parsed the body first or the router reads it itself, and the
// guarded handler must not run.
import { memoryStore, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

const DEEP = `{"resource":"account","action":"delete","x":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;

function app(options: { appParsesJson: boolean }) {
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
  if (options.appParsesJson) a.use(express.json());
  a.use("/stepup", stepup.router);
  const handler: express.RequestHandler = (_req, res) => {
    ran++;
    res.json({ ok: true });
  };
  a.post("/account/delete", stepup.requireStepUp({ resource: "account", action: "delete" }), handler);
  a.post(
    "/transfer",
    stepup.requireStepUp({
      resource: "payment",
      action: "transfer",
      match: "transaction",
      transaction: (req) => req.body,
    }),
    handler,
  );
  a.use(stepup.errorHandler);
  return { app: a, ran: () => ran };
}

const post = (t: ReturnType<typeof app>, path: string) =>
  request(t.app)
    .post(path)
    .set("x-user", "alice")
    .set("accept", "application/json")
    .set("content-type", "application/json")
    .send(DEEP);

function expectInvalidInput(res: request.Response): void {
  expect(res.status, res.text.slice(0, 200)).toBe(400);
  expect(res.headers["content-type"]).toContain("application/problem+json");
  expect(res.body.error).toBe("invalid_input");
  expect(res.text).not.toMatch(/RangeError|at .*\.(js|ts):\d+/);
}

describe("@stepup/express: deeply nested JSON", () => {
  it("the stepup API answers 400 invalid_input when the app's express.json() parsed the body", async () => {
    expectInvalidInput(await post(app({ appParsesJson: true }), "/stepup/api/challenges"));
  });

  it("the stepup API answers 400 invalid_input when it reads the body itself", async () => {
    expectInvalidInput(await post(app({ appParsesJson: false }), "/stepup/api/challenges"));
  });

  it("a guarded route binding the body as a transaction answers 400; the handler does not run", async () => {
    const t = app({ appParsesJson: true });
    expectInvalidInput(await post(t, "/transfer"));
    expect(t.ran()).toBe(0);
  });

  it("control: a guarded route that does not read the body still asks for the step-up", async () => {
    const t = app({ appParsesJson: true });
    const res = await post(t, "/account/delete");
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("step_up_required");
    expect(t.ran()).toBe(0);
  });
});
