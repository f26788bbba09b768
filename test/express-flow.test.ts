// Attack: reaching a sensitive action of the demo with only a first-factor session: skipping the
// step-up, reusing it past maxAge or for another transaction, keeping it after logout, or finishing
// a challenge from another session of the same user.
import { afterEach, describe, expect, it } from "vitest";
import {
  type Agent,
  currentCode,
  type Demo,
  demoAgent,
  enrollTotp,
  expectPageNonce,
  expectProblem,
  logIn,
  openChallenge,
  PASSWORD,
  type Res,
  setCookie,
  signUp,
  stepUp,
  verify,
} from "./support/demo.js";

const HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";
const demos: Demo[] = [];

afterEach(async () => {
  await Promise.all(demos.splice(0).map((d) => d.close()));
});

/** A signed-up user with TOTP enrolled, on a fresh demo (memory store). */
async function enrolledUser(maxAge?: number) {
  const agent = await demoAgent(undefined, maxAge);
  demos.push(agent.demo);
  const email = await signUp(agent);
  const { secret } = await enrollTotp(agent);
  return { agent, email, secret, demo: agent.demo };
}

function challengeForm(res: Res) {
  const page = res.text;
  const action = /<form method="post" action="(\/stepup\/challenge\/[A-Za-z0-9_-]+)"/.exec(page)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  const factorId = /name="factorId" value="([^"]+)"/.exec(page)?.[1];
  expect({ action, csrf, factorId }, page).toEqual({
    action: expect.any(String),
    csrf: expect.any(String),
    factorId: expect.any(String),
  });
  return { action: action ?? "", csrf: csrf ?? "", factorId: factorId ?? "" };
}

async function submitForm(agent: Agent, res: Res, code: string): Promise<Res> {
  const { action, csrf, factorId } = challengeForm(res);
  return agent.post(action).type("form").set("accept", HTML).send({ csrf, factor: "totp", factorId, code });
}

describe("express demo: the guard in front of sensitive routes", () => {
  it("a browser without step-up gets the inline challenge page (no-store, nonce CSP), not the admin panel", async () => {
    const { agent } = await enrolledUser();
    const res = await agent.get("/admin").set("accept", HTML);
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expectPageNonce(res);
    expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(res.text).toMatch(/<form method="post" action="\/stepup\/challenge\/[A-Za-z0-9_-]{16,}"/);
    expect(res.text).toContain('autocomplete="one-time-code"');
    expect(res.text).not.toContain("Admin panel");
    expect(setCookie(res, "stepup")).toBeTruthy();
  });

  it("JSON and bearer clients get step_up_required (RFC 9470); a JSON-API step-up rotates the cookie and opens the route", async () => {
    const { agent, secret } = await enrolledUser();
    const json = await agent.get("/api/export").set("accept", "application/json");
    const problem = expectProblem(json, 401, "step_up_required");
    expect(problem).toMatchObject({ resource: "data", action: "export", maxAge: 300 });
    expect(problem.challengeId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(problem.challengeUrl).toBe(`/stepup/challenge/${String(problem.challengeId)}`);
    expect(problem.factors).toEqual([
      expect.objectContaining({ type: "totp", primary: true }),
      expect.objectContaining({ type: "recovery", primary: false }),
    ]);
    expect(json.headers["www-authenticate"]).toBeUndefined();
    expect(json.text).not.toContain(secret);

    const bearer = await agent.get("/api/export").set("authorization", "Bearer x");
    expectProblem(bearer, 401, "step_up_required");
    expect(bearer.headers["www-authenticate"]).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(bearer.headers["www-authenticate"]).toMatch(/max_age=300\b/);

    const before = (await agent.get("/stepup/api/status?resource=data&action=export")).body;
    expect(before).toEqual({ fresh: false, verifiedAt: null, expiresAt: null });
    const ok = await verify(agent, String(problem.challengeId), await currentCode(secret));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({
      success: true,
      sid: expect.any(String),
      timestamp: expect.any(String),
      resource: "data",
      action: "export",
      trustedDevice: false,
    });
    expect(setCookie(ok, "stepup")).toBeTruthy();
    expect(setCookie(ok, "stepup_device")).toBeTruthy();
    expect(setCookie(ok, "stepup")).not.toBe(setCookie(json, "stepup"));

    const exported = await agent.get("/api/export");
    expect(exported.status, exported.text).toBe(200);
    expect(exported.body).toMatchObject({ records: [] });
    const status = await agent.get("/stepup/api/status?resource=data&action=export");
    expect(status.body).toMatchObject({
      fresh: true,
      verifiedAt: expect.any(String),
      expiresAt: expect.any(String),
    });
  });

  it("the cookie issued before the step-up does not carry it (session fixation)", async () => {
    const { agent, secret, email, demo } = await enrolledUser();
    const first = await agent.get("/api/export");
    const preStepUp = setCookie(first, "stepup");
    expect(preStepUp).toBeTruthy();
    await verify(agent, String(first.body.challengeId), await currentCode(secret)).expect(200);
    expect((await agent.get("/api/export")).status).toBe(200);
    const login = await demo.agent().post("/login").send({ email, password: PASSWORD });
    const replay = await demo
      .agent()
      .get("/api/export")
      .set("cookie", `demo_session=${setCookie(login, "demo_session")}; stepup=${preStepUp}`);
    expectProblem(replay, 401, "step_up_required");
  });

  it("the no-JavaScript challenge form: posting the code redirects back (303) and the admin page opens", async () => {
    const { agent, secret } = await enrolledUser();
    const page = await agent.get("/admin").set("accept", HTML);
    expect(page.status).toBe(401);
    const done = await submitForm(agent, page, await currentCode(secret));
    expect(done.status, done.text).toBe(303);
    expect(done.headers.location).toBe("/admin");
    expect(setCookie(done, "stepup")).toBeTruthy();
    const admin = await agent.get("/admin").set("accept", HTML);
    expect(admin.status).toBe(200);
    expect(admin.text).toContain("Admin panel");
  });

  it("an interrupted form POST is re-submitted with its original (escaped) fields after the step-up", async () => {
    const { agent, secret } = await enrolledUser();
    const fields = { confirm: "yes", note: "<b>x</b>" };
    const page = await agent.post("/account/delete").type("form").set("accept", HTML).send(fields);
    expect(page.status).toBe(401);
    expect(page.text).not.toContain("deleted");
    const resubmit = await submitForm(agent, page, await currentCode(secret));
    expect(resubmit.status, resubmit.text).toBe(200);
    expect(resubmit.text).toMatch(/<form id="stepup-resubmit" method="post" action="\/account\/delete">/);
    expect(resubmit.text).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(resubmit.text).toContain('<input type="hidden" name="note" value="&lt;b&gt;x&lt;/b&gt;">');
    expect(resubmit.text).not.toContain("<b>x</b>");
    expectPageNonce(resubmit); // the auto-submit script runs only with the CSP's nonce
    const deleted = await agent.post("/account/delete").type("form").set("accept", HTML).send(fields);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true });
  });

  it("a step-up older than maxAge no longer opens the route (one real 2.5 s wait)", async () => {
    const { agent, secret } = await enrolledUser(2);
    await stepUp(agent, secret);
    expect((await agent.get("/api/export")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_500));
    expectProblem(await agent.get("/api/export"), 401, "step_up_required");
  });

  it("a transaction-bound step-up pays for exactly that transaction, once", async () => {
    const { agent, secret } = await enrolledUser();
    const transfer = { amount: 100, to: "bob" };
    const first = await agent.post("/transfer").send(transfer);
    const problem = expectProblem(first, 401, "step_up_required");
    expect(problem).toMatchObject({ resource: "payment", action: "transfer" });
    await verify(agent, String(problem.challengeId), await currentCode(secret)).expect(200);
    // Other details right after the verification: not covered (and they do not consume the grant).
    expectProblem(
      await agent.post("/transfer").send({ amount: 100_000, to: "mallory" }),
      401,
      "step_up_required",
    );
    expectProblem(await agent.post("/transfer").send({ amount: 100, to: "eve" }), 401, "step_up_required");
    const paid = await agent.post("/transfer").send(transfer);
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body).toEqual({ transferred: true, amount: 100, to: "bob" });
    expectProblem(await agent.post("/transfer").send(transfer), 401, "step_up_required");
  });

  it("logout ends the step-up in the store: after logging in again (even with the old cookie) it is gone", async () => {
    const { agent, secret, email, demo } = await enrolledUser();
    const ok = await stepUp(agent, secret);
    const oldStepUp = setCookie(ok, "stepup");
    expect((await agent.get("/api/export")).status).toBe(200);
    expect((await agent.post("/logout").send({})).status).toBe(200);
    expectProblem(await agent.get("/api/export"), 401, "unauthenticated");
    await logIn(agent, email);
    expectProblem(await agent.get("/api/export"), 401, "step_up_required");

    const other = demo.agent();
    const login = await other.post("/login").send({ email, password: PASSWORD });
    const replay = await demo
      .agent()
      .get("/api/export")
      .set("cookie", `demo_session=${setCookie(login, "demo_session")}; stepup=${oldStepUp}`);
    expectProblem(replay, 401, "step_up_required");
  });

  it("a challenge opened in one session cannot be completed from another session of the same user", async () => {
    const { agent: a, secret, email, demo } = await enrolledUser();
    const b = demo.agent();
    await logIn(b, email);
    const challengeId = await openChallenge(a);
    expectProblem(await b.get("/api/export"), 401, "step_up_required"); // b has its own step-up session
    const code = await currentCode(secret);
    const stolen = await verify(b, challengeId, code);
    expectProblem(stolen, 403, "challenge_session_mismatch");
    expect(setCookie(stolen, "stepup")).toBeUndefined();
    expectProblem(await b.get("/api/export"), 401, "step_up_required");
    expectProblem(await a.get("/api/export"), 401, "step_up_required");
    // The refused attempt consumed nothing: the owner can still finish with the same code.
    await verify(a, challengeId, code).expect(200);
    expect((await a.get("/api/export")).status).toBe(200);
    expectProblem(await b.get("/api/export"), 401, "step_up_required");
  });
});
