// Policy levels over HTTP. Attacks: a grace period that never ends (a user who never enrols keeps
// passing), a user with no factor slipping past a rule that denies them, a new browser or address
// (a stolen password used elsewhere) passing a risk-based rule, a log-only rollout that blocks, and
// the hot path paying for policy inputs it never reads.
import type { StepUpEvent } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { browser, fakeClock } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";
import type { RequestContext } from "../http-context.js";

const alice = { id: "alice", email: "alice@example.com" };
const DAY = 86_400_000;

describe("REQUIRED with a grace period", () => {
  it("a user with no factor passes with the deadline (enrollBy) until it, then is challenged to enrol", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock, policy: { requirement: "REQUIRED", gracePeriodDays: 7 } });
    const guard = http.guard({ resource: "reports", action: "export" });
    const b = browser(http);
    const first = await b.visit(guard, alice);
    const deadline = new Date(clock.now() + 7 * DAY).toISOString();
    expect(first).toMatchObject({ kind: "pass", stepUp: { verifiedAt: null, enrollBy: deadline } });
    clock.advance(6 * DAY); // the deadline counts from the first request, not from each one
    expect(await b.visit(guard, alice)).toMatchObject({ kind: "pass", stepUp: { enrollBy: deadline } });
    clock.advance(DAY + 1);
    const after = await b.visit(guard, alice);
    expect(after.kind).toBe("step-up-required");
    if (after.kind !== "step-up-required") return;
    expect(http.stepUpRequired(after)).toMatchObject({ factors: [], enrollUrl: "/stepup/console" });
  });

  it("a fresh step-up reports no deadline (enrollBy null)", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock });
    const guard = http.guard({ resource: "reports", action: "export" });
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(guard, alice, secret, clock);
    expect(await b.visit(guard, alice)).toMatchObject({ kind: "pass", stepUp: { enrollBy: null } });
  });
});

describe("noFactor: deny", () => {
  const denying = () => {
    const http = testHttp({ policy: { requirement: "REQUIRED", noFactor: "deny" } });
    return { http, guard: http.guard({ resource: "billing", action: "edit" }) };
  };

  it("a user with no factor gets 403 enrollment_required with where to enrol, never the handler", async () => {
    const { http, guard } = denying();
    const request = new Request("http://localhost:3000/billing", { headers: { accept: "application/json" } });
    const outcome = await guard(request, { user: alice });
    expect(outcome).toMatchObject({ kind: "enrollment-required", rule: { resource: "billing" } });
    if (outcome.kind === "pass") return;
    const response = http.render(request, outcome);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({
      status: 403,
      error: "enrollment_required",
      resource: "billing",
      action: "edit",
      enrollUrl: "/stepup/console",
    });
  });

  it("a browser gets a page linking to the console, coming back where it was", async () => {
    const { http, guard } = denying();
    const request = new Request("http://localhost:3000/billing?tab=2", { headers: { accept: "text/html" } });
    const outcome = await guard(request, { user: alice });
    if (outcome.kind === "pass") throw new Error("passed");
    const response = http.render(request, outcome);
    expect(response.status).toBe(403);
    const page = await response.text();
    expect(page).toContain("Set up two-step verification");
    expect(page).toContain(`href="/stepup/console?returnTo=${encodeURIComponent("/billing?tab=2")}"`);
  });

  it("a form post's page comes back to the same-origin page the form was on, never another site", async () => {
    const { http, guard } = denying();
    const post = (referer: string) =>
      new Request("http://localhost:3000/billing", {
        method: "POST",
        headers: { accept: "text/html", origin: "http://localhost:3000", referer },
      });
    for (const [referer, href] of [
      ["http://localhost:3000/settings", "/stepup/console?returnTo=%2Fsettings"],
      ["https://evil.example/x", "/stepup/console"],
    ] as const) {
      const request = post(referer);
      const outcome = await guard(request, { user: alice });
      if (outcome.kind === "pass") throw new Error("passed");
      expect(await http.render(request, outcome).text()).toContain(`href="${href}"`);
    }
  });
});

describe("RISK_BASED", () => {
  it("newDevice: a new browser is challenged; after a verification the same browser passes, another does not", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock, policy: { requirement: "RISK_BASED", triggers: { newDevice: true } } });
    const guard = http.guard({ resource: "profile", action: "view" });
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    expect((await b.visit(guard, alice)).kind).toBe("step-up-required");
    await b.stepUp(guard, alice, secret, clock);
    b.signOut();
    expect(await b.visit(guard, alice)).toMatchObject({ kind: "pass", stepUp: { verifiedAt: null } });
    expect((await browser(http).visit(guard, alice)).kind).toBe("step-up-required");
  });

  it("newIp: a verification from an address makes it known; another address is challenged", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock, policy: { requirement: "RISK_BASED", triggers: { newIp: true } } });
    const guard = http.guard({ resource: "profile", action: "view" });
    const home = browser(http, { ip: "203.0.113.5" });
    const secret = await home.enrollTotp(alice, clock);
    expect((await home.visit(guard, alice)).kind).toBe("step-up-required");
    await home.stepUp(guard, alice, secret, clock);
    home.signOut();
    expect((await home.visit(guard, alice)).kind).toBe("pass");
    expect((await browser(http, { ip: "198.51.100.7" }).visit(guard, alice)).kind).toBe("step-up-required");
  });

  it("a when trigger reads the request's details (a details function, called only when needed)", async () => {
    const clock = fakeClock();
    const http = testHttp({
      clock,
      policy: {
        requirement: "RISK_BASED",
        triggers: { when: ({ details }) => Number(details?.amount) > 1000 },
      },
    });
    const guard = http.guard({ resource: "wire", action: "send" });
    const b = browser(http);
    await b.enrollTotp(alice, clock);
    expect((await b.visit(guard, alice, { details: () => ({ amount: 10 }) })).kind).toBe("pass");
    expect((await b.visit(guard, alice, { details: { amount: 5000 } })).kind).toBe("step-up-required");
    // Details that are not an object are the app's bug: fail closed, never a pass.
    const bad = await b.visit(guard, alice, { details: () => 5000 as never });
    expect(bad.kind).toBe("error");
  });
});

describe("log-only mode", () => {
  it("passes and records what it would have done (policy.decision, log-only)", async () => {
    const clock = fakeClock();
    const events: StepUpEvent[] = [];
    const http = testHttp({ clock, policy: { mode: "log-only" }, onEvent: (e) => void events.push(e) });
    const guard = http.guard({ resource: "admin", action: "read" });
    const b = browser(http, { ip: "203.0.113.5" });
    await b.enrollTotp(alice, clock);
    expect(await b.visit(guard, alice)).toMatchObject({ kind: "pass", stepUp: { verifiedAt: null } });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "policy.decision",
        metadata: expect.objectContaining({ mode: "log-only", decision: "CHALLENGE" }),
        userId: "alice",
        resource: "admin",
        action: "read",
        ip: "203.0.113.5",
      }),
    );
  });
});

describe("the hot path reads only what the rule's policy uses", () => {
  it("a plain rule never computes the client address nor calls the app's details function", async () => {
    const http = testHttp();
    const guard = http.guard({ resource: "admin", action: "read" });
    let ipReads = 0;
    let detailCalls = 0;
    const ctx: RequestContext = {
      user: alice,
      get ip() {
        ipReads++;
        return "203.0.113.5";
      },
    };
    const request = new Request("http://localhost:3000/admin", { headers: { cookie: "stepup_device=a.b" } });
    const details = () => {
      detailCalls++;
      return {};
    };
    await guard(request, ctx, { details });
    expect({ ipReads, detailCalls }).toEqual({ ipReads: 0, detailCalls: 0 });
    // With a hook, both are read (the hook sees them).
    const hooked = testHttp({ policy: { decide: ({ ip, details }) => (ip && details ? "ALLOW" : "BLOCK") } });
    const g = hooked.guard({ resource: "admin", action: "read" });
    expect((await g(request, ctx, { details: () => ({ amount: 1 }) })).kind).toBe("pass");
  });
});
