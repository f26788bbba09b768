// What Express 4 does differently from Express 5, checked here through Express 5 and plain calls
// (scripts/consumer-test.mjs runs the packed packages on a real Express 4 app as well):
// - a promise rejected by middleware is never caught: a failing getUser or store would leave an
//   unhandled rejection, which ends the process on Node 15+;
// - body-parser 1 sets `req.body = {}` for a content type it does not parse and leaves the body unread.
import { memoryStore, totp } from "@stepup/core";
import express, { type NextFunction, type Request, type Response } from "express";
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import { toFetchRequest } from "./fetch-bridge.js";
import { stepUp } from "./step-up.js";

function failingStepUp(failure: Error) {
  return stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: async () => {
      throw failure;
    },
    factors: [totp()],
    logger: { warn() {}, error() {} },
  });
}

describe("Express 4: no rejection is left to the framework", () => {
  it("requireStepUp hands a failing getUser to next(error) and returns no promise", async () => {
    const failure = new Error("session store down");
    const guard = failingStepUp(failure).requireStepUp({ resource: "account", action: "delete" });
    const next = vi.fn<(error?: unknown) => void>();
    const req = { method: "GET", headers: {}, get: () => undefined } as unknown as Request;
    const returned: unknown = guard(req, {} as Response, next as NextFunction);
    expect(returned).toBeUndefined();
    await vi.waitFor(() => expect(next).toHaveBeenCalledWith(failure));
  });

  it("the router hands a failing getUser to the app's error handler", async () => {
    const failure = new Error("session store down");
    const app = express();
    app.use("/stepup", failingStepUp(failure).router);
    const seen: unknown[] = [];
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      seen.push(error);
      res.status(500).json({ error: "internal" });
    });
    const res = await request(app).get("/stepup/api/status");
    expect(res.status).toBe(500);
    expect(seen).toEqual([failure]);
  });
});

describe("Express 4: a body its parser left unread", () => {
  it("is streamed to stepup, not dropped for the `{}` placeholder", async () => {
    const app = express();
    // What body-parser 1 (express.json() in Express 4) does for a form it does not parse.
    app.use((req, _res, next) => {
      req.body ??= {};
      next();
    });
    app.post("/echo", async (req, res) => {
      res.type("text/plain").send(await toFetchRequest(req).text());
    });
    const res = await request(app).post("/echo").type("form").send("csrf=token-1&code=123456");
    expect(res.text).toBe("csrf=token-1&code=123456");
  });
});
