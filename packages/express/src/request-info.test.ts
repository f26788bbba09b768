// `req.stepUp` is an accessor on Express's request prototype, not a property added to each request
// (a property added per request costs V8 a new hidden class each time: ~5 % of the server's work on
// the guard's hot path, see the README's benchmark). What must not change for the app: the handler
// reads what the guard let this request through with, in a mounted sub-app too, under concurrent
// requests, and app code can still assign it.
import { IncomingMessage } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { memoryStore, totp } from "@stepup/core";
import type { StepUpInfo } from "@stepup/http";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { setStepUp } from "./request-info.js";
import { stepUp } from "./step-up.js";

/** A guard that lets a user with no factor through (a REQUIRED policy's grace period): a pass without a ceremony. */
function guarded() {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: (req) => (req.get("x-user") ? { id: String(req.get("x-user")) } : null),
    factors: [totp()],
    logger: { warn() {}, error() {} },
    policy: { requirement: "REQUIRED", gracePeriodDays: 3 },
  });
  return (resource: string): RequestHandler => stepup.requireStepUp({ resource, action: "read" });
}

const info = (resource: string) => ({ resource }) as unknown as StepUpInfo;

describe("req.stepUp", () => {
  it("the handler reads the guard's pass, which is not an own property of the request (hot path: no new hidden class per request)", async () => {
    const guard = guarded();
    const app = express();
    app.get("/r", guard("reports"), (req, res) => {
      res.json({ resource: req.stepUp?.resource, own: Object.hasOwn(req, "stepUp"), keys: Object.keys(req) });
    });
    const res = await request(app).get("/r").set("x-user", "alice").set("accept", "application/json");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resource: "reports", own: false });
    expect(res.body.keys).not.toContain("stepUp");
  });

  // A mounted app's requests have its own request prototype (inheriting the parent's) while in it.
  const read: RequestHandler = (req, res) => {
    res.json({ resource: req.stepUp?.resource ?? null });
  };

  it("a handler in a mounted sub-app reads the parent app's guard's pass", async () => {
    const guard = guarded();
    const reports = express();
    reports.get("/x", read);
    const app = express();
    app.use("/reports", guard("reports"), reports);
    const res = await request(app).get("/reports/x").set("x-user", "alice").set("accept", "application/json");
    expect(res.status).toBe(200);
    expect(res.body.resource).toBe("reports");
  });

  it("the parent app's handler reads the pass of a guard that ran in a sub-app (one Express's apps share the accessor)", async () => {
    const guard = guarded();
    const gate = express();
    gate.use(guard("admin")); // a sub-app used as a gate: it guards, then falls through to the parent
    const app = express();
    app.use("/admin", gate);
    app.get("/admin/x", read);
    const res = await request(app).get("/admin/x").set("x-user", "alice").set("accept", "application/json");
    expect(res.status).toBe(200);
    expect(res.body.resource).toBe("admin");
  });

  it("concurrent requests each read their own pass, never another request's", async () => {
    const guard = guarded();
    const app = express();
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    for (const resource of ["reports", "billing"]) {
      app.get(`/${resource}`, guard(resource), async (req, res) => {
        await pause(); // the other requests' guards run meanwhile
        res.json({ resource: req.stepUp?.resource });
      });
    }
    app.get("/open", async (req, res) => {
      await pause();
      res.json({ resource: req.stepUp?.resource ?? null });
    });
    const paths = Array.from({ length: 30 }, (_, i) => ["/reports", "/billing", "/open"][i % 3] as string);
    const answers = await Promise.all(
      paths.map((path, i) =>
        request(app).get(path).set("x-user", `user-${i}`).set("accept", "application/json"),
      ),
    );
    expect(answers.map((a) => a.body.resource)).toEqual(
      paths.map((p) => (p === "/open" ? null : p.slice(1))),
    );
  });

  it("app code still assigns and reads it, before and after the guard has run", async () => {
    const guard = guarded();
    const app = express();
    app.get(
      "/r",
      guard("reports"),
      (req, _res, next) => {
        req.stepUp = { ...(req.stepUp as StepUpInfo), resource: "rewritten" };
        next();
      },
      (req, res) => {
        res.json({ resource: req.stepUp?.resource });
      },
    );
    app.get("/unguarded", (req, res) => {
      req.stepUp = info("set-by-app");
      res.json({ resource: req.stepUp?.resource });
    });
    const agent = request(app);
    expect(
      (await agent.get("/r").set("x-user", "alice").set("accept", "application/json")).body.resource,
    ).toBe("rewritten");
    expect((await agent.get("/unguarded")).body.resource).toBe("set-by-app");
  });
});

describe("setStepUp where the accessor cannot be used", () => {
  it("a request object not from Node's HTTP server gets a plain property", () => {
    const req: { stepUp?: StepUpInfo } = {};
    setStepUp(req, info("a"));
    expect(Object.hasOwn(req, "stepUp")).toBe(true);
    expect(req.stepUp?.resource).toBe("a");
  });

  it("a request that already has an own `stepUp` keeps it, updated", () => {
    const proto = Object.create(Object.create(IncomingMessage.prototype));
    const req = Object.create(proto) as { stepUp?: StepUpInfo };
    req.stepUp = info("before");
    setStepUp(req, info("after"));
    expect(Object.getOwnPropertyDescriptor(req, "stepUp")?.value.resource).toBe("after");
  });

  it("another `stepUp` accessor first on the chain (e.g. another copy of this package) is assigned through", () => {
    const theirs = new WeakMap<object, StepUpInfo>();
    const base = Object.create(IncomingMessage.prototype);
    Object.defineProperty(base, "stepUp", {
      configurable: true,
      get(this: object) {
        return theirs.get(this);
      },
      set(this: object, value: StepUpInfo) {
        theirs.set(this, value);
      },
    });
    const req = Object.create(Object.create(base)) as { stepUp?: StepUpInfo };
    setStepUp(req, info("through"));
    expect(theirs.get(req)?.resource).toBe("through");
    expect(req.stepUp?.resource).toBe("through");
    expect(Object.hasOwn(req, "stepUp")).toBe(false);
  });
});

describe("memory", () => {
  it("a pass does not outlive its request (bounded memory: an entry goes with its request)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const base = Object.create(IncomingMessage.prototype); // stands for Express's request prototype
    // In a function of its own: the async test's frame, kept across the await, holds no request.
    const passes = (): WeakRef<object>[] =>
      Array.from({ length: 100 }, (_, i) => {
        const req = Object.create(Object.create(base)) as { stepUp?: StepUpInfo };
        setStepUp(req, info(`r${i}`));
        expect(Object.hasOwn(req, "stepUp")).toBe(false); // through the accessor, not a property
        expect(req.stepUp?.resource).toBe(`r${i}`);
        return new WeakRef(req);
      });
    const refs = passes();
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRef targets are kept to the end of the job
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
