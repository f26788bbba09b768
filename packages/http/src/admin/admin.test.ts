// The admin API ({basePath}/admin/users/{id}...). Attacks: a signed-out caller or a signed-in
// non-administrator reading or resetting someone (or learning whether they exist), an
// administrator's stolen session used without the administrator's own second factor (also via a
// policy that waives step-ups or a remembered device), a cross-site form or fetch riding the
// administrator's cookies, a malformed id reaching the store, and a reset that leaves the target a
// factor, a code, a device or a live step-up, or nobody able to say who did it.
import {
  generateSigningKey,
  memoryStore,
  recoveryCodes,
  type SecurityNotice,
  type StepUpUser,
  type Store,
  totp,
} from "@stepup/core";
import { describe, expect, it, vi } from "vitest";
import { browser, type FakeClock, fakeClock, totpAt } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";
import type { StepUpHttpOptions } from "../create-step-up-http.js";

const root = { id: "root", email: "root@example.com" };
const alice = { id: "alice", email: "alice@example.com" };
const bob = { id: "bob", email: "bob@example.com" };
const DIRECTORY: Record<string, StepUpUser> = { root, alice, bob };

type Reply = Awaited<ReturnType<ReturnType<typeof browser>["call"]>>;

/** An app whose only administrator is root, with alice (TOTP, stepped up, a remembered device) to look after. */
async function setup(overrides: Partial<StepUpHttpOptions> = {}) {
  const clock = fakeClock();
  const store: Store = memoryStore({ clock });
  const notices: SecurityNotice[] = [];
  const authorize = vi.fn((user: StepUpUser) => user.id === root.id);
  const http = testHttp({
    clock,
    store,
    factors: [totp(), recoveryCodes()],
    authorizeAdmin: authorize,
    findUser: (id) => DIRECTORY[id],
    notify: (n) => void notices.push(n),
    ...overrides,
  });
  const guarded = http.guard({ resource: "profile", action: "edit", allowTrustedDevice: true });
  const admin = browser(http, { ip: "192.0.2.1" });
  const target = browser(http, { ip: "203.0.113.7" });
  const other = browser(http);
  const aliceSecret = await target.enrollTotp(alice, clock);
  await target.stepUp(guarded, alice, aliceSecret, clock, true);
  const rootSecret = await admin.enrollTotp(root, clock);
  const as = (b: typeof admin, user: StepUpUser | null) => ({
    get: (path: string) => b.call(user, "GET", `/stepup/admin/users/${path}`),
    post: (path: string, extra: Record<string, string> = {}) =>
      b.call(user, "POST", `/stepup/admin/users/${path}`, undefined, extra),
  });
  /** root steps up for stepup:admin through the 401 the admin API answers. */
  const stepUpRoot = async () => {
    const gate = await as(admin, root).get("alice");
    expect(gate.status, JSON.stringify(gate.body)).toBe(401);
    await verify(admin, root, String(gate.body.challengeId), rootSecret, clock);
  };
  return {
    clock,
    store,
    http,
    notices,
    authorize,
    guarded,
    admin,
    target,
    other,
    aliceSecret,
    rootSecret,
    as,
    stepUpRoot,
  };
}

async function verify(
  b: ReturnType<typeof browser>,
  user: StepUpUser,
  id: string,
  secret: string,
  clock: FakeClock,
) {
  const res = await b.api(user, "POST", `challenges/${id}/verify`, {
    factor: "totp",
    code: await totpAt(secret, clock),
  });
  clock.advance(30_000);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const expectProblem = (res: Reply, status: number, error: string) => {
  expect({ status: res.status, error: res.body.error }, JSON.stringify(res.body)).toEqual({ status, error });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
};

describe("who may use the admin API", () => {
  it("without authorizeAdmin it does not exist: 404 for everyone", async () => {
    const http = testHttp();
    const b = browser(http);
    expectProblem(await b.call(root, "GET", "/stepup/admin/users/alice"), 404, "not_found");
    expectProblem(await b.call(root, "POST", "/stepup/admin/users/alice/reset"), 404, "not_found");
    expect(() => testHttp({ findUser: () => undefined })).toThrow(/`findUser`.*`authorizeAdmin`/);
    expect(() => testHttp({ authorizeAdmin: true as never })).toThrow(/`authorizeAdmin` must be a function/);
  });

  it("signed out: 401 unauthenticated, before the app's authorizeAdmin is even asked", async () => {
    const t = await setup();
    expectProblem(await t.as(t.other, null).get("alice"), 401, "unauthenticated");
    expectProblem(await t.as(t.other, null).post("alice/reset"), 401, "unauthenticated");
    expect(t.authorize).not.toHaveBeenCalled();
  });

  it("a signed-in non-administrator: 403 forbidden, the same for a real, an unknown and a malformed id, and nothing happens", async () => {
    const t = await setup();
    const events = (await t.http.engine.audit.list(alice.id, 200)).length;
    const answers: Reply[] = [];
    for (const path of [
      "alice",
      "nobody",
      "%0A",
      "alice/audit",
      "alice/reset",
      "alice/revoke",
      "alice/unlock",
    ]) {
      const res =
        path.includes("/") && !path.endsWith("audit")
          ? await t.as(t.other, bob).post(path)
          : await t.as(t.other, bob).get(path);
      expectProblem(res, 403, "forbidden");
      answers.push(res);
    }
    // One answer whatever the target: nothing says who exists or what they have.
    const bodies = new Set(answers.map((r) => JSON.stringify({ ...r.body })));
    expect(bodies.size).toBe(1);
    expect(Object.keys(answers[0]?.body ?? {}).sort()).toEqual([
      "detail",
      "error",
      "status",
      "title",
      "type",
    ]);
    expect(t.authorize).toHaveBeenCalledWith(bob, expect.any(Request));
    expect((await t.http.engine.admin.status(alice.id)).factorCount).toBe(1);
    expect(await t.http.engine.audit.list(alice.id, 200)).toHaveLength(events);
    // And bob opened no challenge for himself either: a 403 is not a step-up prompt.
    expect((await t.http.engine.audit.list(bob.id, 200)).some((e) => e.type === "challenge.opened")).toBe(
      false,
    );
  });

  it("an administrator who is not fresh: 401 step_up_required for stepup:admin, the guarded API's body, nothing read or changed", async () => {
    const t = await setup();
    const gate = await t.as(t.admin, root).post("alice/reset");
    expectProblem(gate, 401, "step_up_required");
    expect(gate.body).toMatchObject({
      resource: "stepup",
      action: "admin",
      maxAge: 300,
      challengeUrl: expect.stringMatching(/^\/stepup\/challenge\//),
      factors: expect.arrayContaining([expect.objectContaining({ type: "totp" })]),
    });
    // Every member a guarded route's 401 has (what stepUpFetch's modal reads).
    const outcome = await t.other.visit(t.guarded, root);
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    expect(Object.keys(gate.body)).toEqual(
      expect.arrayContaining(Object.keys(t.http.stepUpRequired(outcome))),
    );
    expect((await t.http.engine.admin.status(alice.id)).factorCount).toBe(1);
    expect(t.notices.some((n) => n.type === "user.reset")).toBe(false);
  });

  it("a remembered device does not waive the administrator's step-up once it is older than stepup:admin's maxAge", async () => {
    const t = await setup();
    const gate = await t.as(t.admin, root).get("alice");
    const code = await totpAt(t.rootSecret, t.clock);
    const verified = await t.admin.api(root, "POST", `challenges/${gate.body.challengeId}/verify`, {
      factor: "totp",
      code,
      rememberDevice: true,
    });
    expect(verified.body.trustedDevice).toBe(true);
    expect((await t.as(t.admin, root).get("alice")).status).toBe(200);
    t.clock.advance(301_000);
    expect((await t.admin.visit(t.guarded, root)).kind).toBe("pass"); // an ordinary rule: the device passes
    expectProblem(await t.as(t.admin, root).get("alice"), 401, "step_up_required");
  });

  it("a policy hook answering ALLOW does not waive it either", async () => {
    const clock = fakeClock();
    const http = testHttp({
      clock,
      authorizeAdmin: (u) => u.id === root.id,
      policy: { decide: () => "ALLOW" },
    });
    const b = browser(http);
    await b.enrollTotp(root, clock);
    expect((await b.visit(http.guard({ resource: "profile", action: "edit" }), root)).kind).toBe("pass");
    expectProblem(await b.call(root, "GET", "/stepup/admin/users/alice"), 401, "step_up_required");
  });

  it("a step-up token for stepup:admin (a bearer) does not stand in for the administrator's own session", async () => {
    const t = await setup({
      tokens: { issuer: "http://localhost:3000", audience: "admin-test", keys: [generateSigningKey()] },
    });
    await t.stepUpRoot();
    const minted = await t.admin.api(root, "POST", "token", { resource: "stepup", action: "admin" });
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    // Another browser of root's (no step-up cookie), with the token.
    const res = await t.other.call(root, "GET", "/stepup/admin/users/alice", undefined, {
      authorization: `Bearer ${minted.body.token}`,
    });
    expectProblem(res, 401, "step_up_required");
  });
});

describe("a fresh administrator", () => {
  it("reads a user's status: factor summaries, recovery codes left, devices, lock, reviews", async () => {
    const t = await setup();
    await t.stepUpRoot();
    const res = await t.as(t.admin, root).get("alice");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({
      enabled: true,
      factorCount: 1,
      factors: [expect.objectContaining({ type: "totp", title: "Authenticator app", primary: true })],
      recoveryCodesRemaining: 10,
      devices: [expect.objectContaining({ name: expect.any(String) })],
      lockedUntil: null,
      userLocked: false,
      reviews: [],
    });
    expect(JSON.stringify(res.body)).not.toContain(t.aliceSecret);
    // An unknown id is a user with nothing set up.
    expect((await t.as(t.admin, root).get("nobody")).body).toMatchObject({ enabled: false, factorCount: 0 });
  });

  it("resets a user: factors, codes and devices gone, their step-up ended, locks cleared, user.reset by root, and the user told", async () => {
    const t = await setup({ limits: { lockout: { maxFailures: 3, delayAfter: 0 } } });
    // alice is locked out (three wrong codes).
    for (let i = 0; i < 3; i++) {
      t.clock.advance(31_000);
      const outcome = await t.other.visit(t.http.guard({ resource: "admin", action: "read" }), alice);
      if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
      await t.other.api(alice, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
        factor: "totp",
        code: "000000",
      });
    }
    expect((await t.http.engine.admin.status(alice.id)).userLocked).toBe(true);
    await t.stepUpRoot();

    const res = await t.as(t.admin, root).post("alice/reset");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      enabled: false,
      factorCount: 0,
      factors: [],
      recoveryCodesRemaining: 0,
      devices: [],
      lockedUntil: null,
      userLocked: false,
      reviews: [],
    });
    // alice's own view agrees, and her step-up (and remembered device) no longer pass the guard.
    expect((await t.target.api(alice, "GET", "factors")).body).toEqual({
      factors: [],
      recoveryCodesRemaining: 0,
    });
    t.clock.advance(1_000);
    expect((await t.target.visit(t.guarded, alice)).kind).toBe("step-up-required");
    const logged = await t.http.engine.audit.list(alice.id, 200);
    expect(logged.find((e) => e.type === "user.reset")).toMatchObject({ metadata: { by: "root" } });
    await vi.waitFor(() => expect(t.notices.map((n) => n.type)).toContain("user.reset"));
    expect(t.notices.find((n) => n.type === "user.reset")?.user).toEqual(alice);
  });

  it("revokes a user's step-ups and devices (their factors stay), and unlocks a locked user", async () => {
    const t = await setup({ limits: { lockout: { maxFailures: 3, delayAfter: 0 } } });
    await t.stepUpRoot();
    const revoked = await t.as(t.admin, root).post("alice/revoke");
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ factorCount: 1, devices: [] });
    expect((await t.http.engine.audit.list(alice.id, 2)).map((e) => [e.type, e.metadata?.by])).toEqual([
      ["device.revoked", "root"],
      ["user.revoked", "root"],
    ]);
    t.clock.advance(1_000);
    expect((await t.target.visit(t.guarded, alice)).kind).toBe("step-up-required");

    for (let i = 0; i < 3; i++) {
      t.clock.advance(31_000);
      const outcome = await t.target.visit(t.guarded, alice);
      if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
      await t.target.api(alice, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
        factor: "totp",
        code: "000000",
      });
    }
    expect((await t.as(t.admin, root).get("alice")).body).toMatchObject({
      userLocked: true,
      lockedUntil: "9999-12-31T23:59:59.999Z",
    });
    const unlocked = await t.as(t.admin, root).post("alice/unlock");
    expect(unlocked.body).toMatchObject({ userLocked: false, lockedUntil: null });
    expect((await t.http.engine.audit.list(alice.id, 1))[0]).toMatchObject({
      type: "user.unlocked",
      metadata: { by: "root" },
    });
    // alice can verify again.
    t.clock.advance(31_000);
    await t.target.stepUp(t.guarded, alice, t.aliceSecret, t.clock);
  });

  it("reads a user's audit log, newest first, with the chain's check; a tampered log shows ok: false", async () => {
    const t = await setup();
    await t.stepUpRoot();
    const res = await t.as(t.admin, root).get("alice/audit");
    expect(res.status).toBe(200);
    const events = res.body.events as Record<string, unknown>[];
    expect(events.map((e) => e.type)).toContain("factor.enrolled");
    const ats = events.map((e) => String(e.at));
    expect([...ats].sort().reverse()).toEqual(ats);
    for (const e of events)
      for (const key of ["mac", "prev", "seq", "userId"]) expect(e).not.toHaveProperty(key);
    expect(res.body.chain).toEqual({ ok: true, entries: events.length });
    expect((await t.as(t.admin, root).get("alice/audit?limit=1")).body.events).toHaveLength(1);
    for (const bad of ["0", "201", "abc", "01"])
      expectProblem(await t.as(t.admin, root).get(`alice/audit?limit=${bad}`), 400, "invalid_input");

    // Someone with store access edits one entry (says a factor was never enrolled).
    const raw = await t.store.list(alice.id, "audit");
    await t.store.delete(alice.id, ["audit"]);
    for (const [i, line] of raw.entries())
      await t.store.append(
        alice.id,
        "audit",
        i === 0 ? line.replace("factor.enrolled", "track") : line,
        200,
        3_600,
      );
    const tampered = await t.as(t.admin, root).get("alice/audit");
    expect(tampered.body.chain).toMatchObject({ ok: false, brokenAt: 0, reason: "edited" });
  });

  it("a malformed id is 400 invalid_input (after the administrator check), and no challenge is opened for it", async () => {
    const t = await setup();
    for (const bad of ["%0A", "a%00b", "x".repeat(257), "%C2%85"]) {
      const res = await t.as(t.admin, root).get(bad);
      expectProblem(res, 400, "invalid_input");
      expect(res.body.field).toBe("id");
    }
    expect((await t.http.engine.audit.list(root.id, 200)).some((e) => e.type === "challenge.opened")).toBe(
      false,
    );
  });
});

describe("cross-site requests riding the administrator's cookies", () => {
  it("are refused (403 origin_mismatch) before anything is read or changed, fresh or not", async () => {
    const t = await setup();
    await t.stepUpRoot();
    const forged: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of forged) {
      for (const action of ["reset", "revoke", "unlock"]) {
        const res = await t.as(t.admin, root).post(`alice/${action}`, headers);
        expectProblem(res, 403, "origin_mismatch");
      }
    }
    // No Origin: a foreign Referer, or nothing at all with the cookies (a request that hides where it comes from).
    const cookie = [...t.admin.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const hidden: Record<string, string>[] = [{ cookie, referer: "https://evil.example/page" }, { cookie }];
    for (const headers of hidden) {
      const res = await t.http.handle(
        new Request("http://localhost:3000/stepup/admin/users/alice/reset", { method: "POST", headers }),
        { user: root },
      );
      expect(res.status).toBe(403);
      expect((await res.json()).error).toBe("origin_mismatch");
    }
    const status = await t.http.engine.admin.status(alice.id);
    expect(status).toMatchObject({ factorCount: 1, recoveryCodesRemaining: 10 });
    expect(status.devices).toHaveLength(1);
    expect((await t.http.engine.audit.list(alice.id, 200)).some((e) => e.metadata?.by === "root")).toBe(
      false,
    );
  });

  it("a form post (no JSON) is refused: 415", async () => {
    const t = await setup();
    await t.stepUpRoot();
    const res = await t.http.handle(
      new Request("http://localhost:3000/stepup/admin/users/alice/reset", {
        method: "POST",
        headers: {
          origin: "http://localhost:3000",
          "content-type": "application/x-www-form-urlencoded",
          cookie: [...t.admin.jar].map(([k, v]) => `${k}=${v}`).join("; "),
        },
        body: "confirm=yes",
      }),
      { user: root },
    );
    expect(res.status).toBe(415);
    expect((await t.http.engine.admin.status(alice.id)).factorCount).toBe(1);
  });
});

describe("routing", () => {
  it("unknown paths are 404, other methods 405", async () => {
    const t = await setup();
    expectProblem(await t.as(t.admin, root).get("alice/delete"), 404, "not_found");
    expectProblem(await t.admin.call(root, "GET", "/stepup/admin/users"), 404, "not_found");
    expectProblem(await t.admin.call(root, "GET", "/stepup/admin/other/alice"), 404, "not_found");
    expectProblem(await t.as(t.admin, root).get("alice/reset"), 405, "method_not_allowed");
    expectProblem(await t.as(t.admin, root).post("alice"), 405, "method_not_allowed");
  });
});
