// Policies through Next. Attacks: a grace period the client is never told about (so users never
// enrol before it ends), a user a policy denies reaching the handler or the action, and details the
// policy reads computed from a body the handler then cannot read.
import { memoryStore, type PolicyOptions, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { createStepUp } from "./create-step-up.js";
import type { ActionRequestApi } from "./guard-action.js";

const SECRET = "unit-test-secret-0123456789abcdef-0123456789";
const ORIGIN = "http://localhost:3000";
const START = Date.UTC(2026, 0, 5, 12);

function setup(policy: PolicyOptions) {
  const api: ActionRequestApi = {
    headers: async () => new Headers({ host: "localhost:3000", origin: ORIGIN }),
    cookies: async () => ({ set: () => undefined }),
  };
  const stepup = createStepUp(
    {
      store: memoryStore(),
      secret: SECRET,
      appName: "Test",
      factors: [totp()],
      getUser: () => ({ id: "u1" }),
      clock: { now: () => START },
      policy,
    },
    { api, shared: false },
  );
  return stepup;
}

const json = (path: string, init: RequestInit = {}) =>
  new Request(`${ORIGIN}${path}`, { ...init, headers: { accept: "application/json", ...init.headers } });
const deadline = new Date(START + 7 * 86_400_000).toISOString();

describe("withStepUp and policies", () => {
  it("within a grace period: the handler's response carries Stepup-Enroll-By, even an immutable one", async () => {
    const stepup = setup({ requirement: "REQUIRED", gracePeriodDays: 7 });
    const GET = stepup.withStepUp((_r, _c, info) => Response.json({ enrollBy: info.enrollBy }), {
      resource: "reports",
      action: "read",
    });
    const res = await GET(json("/api/reports"), {});
    expect(res.status).toBe(200);
    expect(res.headers.get("stepup-enroll-by")).toBe(deadline);
    expect(await res.json()).toEqual({ enrollBy: deadline });
    const REDIRECT = stepup.withStepUp(() => Response.redirect(`${ORIGIN}/elsewhere`, 303), {
      resource: "reports",
      action: "read",
    });
    const moved = await REDIRECT(json("/api/reports"), {});
    expect(moved.status).toBe(303);
    expect(moved.headers.get("location")).toBe(`${ORIGIN}/elsewhere`);
    expect(moved.headers.get("stepup-enroll-by")).toBe(deadline);
  });

  it('noFactor "deny": 403 enrollment_required; the handler does not run', async () => {
    const stepup = setup({ requirement: "REQUIRED", noFactor: "deny" });
    let ran = false;
    const GET = stepup.withStepUp(
      () => {
        ran = true;
        return Response.json({});
      },
      { resource: "reports", action: "read" },
    );
    const res = await GET(json("/api/reports"), {});
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: "enrollment_required", enrollUrl: "/stepup/console" });
    expect(ran).toBe(false);
  });

  it("details read from a copy of the request reach a when trigger; the handler still reads the body", async () => {
    const stepup = setup({
      requirement: "RISK_BASED",
      triggers: { when: ({ details }) => details?.big === true },
    });
    const POST = stepup.withStepUp(async (request) => Response.json(await request.json()), {
      resource: "wire",
      action: "send",
      details: async (request) => ({
        big: Number(((await request.json()) as { amount: number }).amount) > 1000,
      }),
    });
    const post = (amount: number) =>
      json("/api/wire", {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ amount }),
      });
    const small = await POST(post(10), {});
    expect(small.status).toBe(200);
    expect(await small.json()).toEqual({ amount: 10 });
    expect((await POST(post(5000), {})).status).toBe(401);
  });
});

describe("guardAction and policies", () => {
  it("within a grace period: ok, with stepUp.enrollBy (the action shows a banner)", async () => {
    const stepup = setup({ requirement: "REQUIRED", gracePeriodDays: 7 });
    expect(await stepup.guardAction({ resource: "reports", action: "read" })).toMatchObject({
      ok: true,
      stepUp: { verifiedAt: null, enrollBy: deadline },
    });
  });

  it('noFactor "deny": enrollment_required with enrollUrl, serializable', async () => {
    const stepup = setup({ requirement: "REQUIRED", noFactor: "deny" });
    const result = await stepup.guardAction({ resource: "reports", action: "read" });
    expect(result).toEqual({ ok: false, error: "enrollment_required", enrollUrl: "/stepup/console" });
  });

  it("details reach a when trigger", async () => {
    const stepup = setup({
      requirement: "RISK_BASED",
      triggers: { when: ({ details }) => details?.big === true },
    });
    expect((await stepup.guardAction({ resource: "wire", action: "send", details: { big: false } })).ok).toBe(
      true,
    );
    const risky = await stepup.guardAction({ resource: "wire", action: "send", details: { big: true } });
    expect(risky.ok === false && "stepUpRequired" in risky).toBe(true);
  });
});
