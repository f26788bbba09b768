// Attacks found by the outside review, replayed over HTTP against the Express demo:
// - a cross-origin form or fetch riding a fresh step-up (the write ran), or stored in a challenge
//   and later re-submitted from our own origin;
// - challenges opened in a loop with large forms to fill the store; forms kept in clear;
// - a transaction approved for one thing paying another (an array where a string was digested);
// - a pending enrollment started before the victim had a factor, confirmed afterwards;
// - cookie-carrying API calls with neither Origin nor Referer.
import { memoryStore } from "@stepup/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Agent,
  currentCode,
  type Demo,
  enrollTotp,
  expectProblem,
  openChallenge,
  PASSWORD,
  signUp,
  startDemo,
  stepUp,
  uniqueEmail,
  verify,
  verifyRecovery,
} from "./support/demo.js";
import { codeFor } from "./support/totp.js";

const store = memoryStore();
let demo: Demo;

beforeAll(async () => {
  demo = await startDemo({ store });
});
afterAll(async () => {
  await demo?.close();
});

/** A signed-up user with TOTP, and their id. */
async function enrolled(): Promise<{ agent: Agent; secret: string; id: string }> {
  const agent = demo.agent();
  const signup = await agent.post("/signup").send({ email: uniqueEmail(), password: PASSWORD });
  const { secret } = await enrollTotp(agent);
  return { agent, secret, id: String(signup.body.id) };
}

const challengeCount = async (id: string) => (await store.list(id, "challenges")).length;

describe("cross-origin writes are refused at the guard, before anything is stored or run", () => {
  it("a stepped-up user's account is not deleted by a request from another origin", async () => {
    const { agent, secret } = await enrolled();
    await stepUp(agent, secret);
    for (const origin of ["https://evil.example", "null", "http://127.0.0.1:1"]) {
      const res = await agent.post("/account/delete").set("origin", origin).send({});
      expectProblem(res, 403, "origin_mismatch");
      expect(res.text).not.toContain("deleted");
    }
    const site = await agent
      .post("/account/delete")
      .unset("origin")
      .set("sec-fetch-site", "cross-site")
      .send({});
    expectProblem(site, 403, "origin_mismatch");
    const referer = await agent
      .post("/account/delete")
      .unset("origin")
      .set("referer", "https://evil.example/")
      .send({});
    expectProblem(referer, 403, "origin_mismatch");
    // The same request from our own origin runs.
    expect((await agent.post("/account/delete").send({})).body).toMatchObject({ deleted: true });
  });

  it("a cross-site form POST is neither run nor kept for re-submission", async () => {
    const { agent, id } = await enrolled();
    const before = await challengeCount(id);
    const res = await agent
      .post("/transfer")
      .set("origin", "https://evil.example")
      .set("accept", "text/html")
      .type("form")
      .send({ amount: "900", to: "mallory" });
    expect(res.status).toBe(403);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.text).not.toContain("mallory");
    expect(await challengeCount(id)).toBe(before);
  });

  it("API calls that carry cookies but neither Origin nor Referer are refused", async () => {
    const { agent } = await enrolled();
    const res = await agent
      .post("/stepup/api/challenges")
      .unset("origin")
      .send({ resource: "data", action: "export" });
    expectProblem(res, 403, "origin_mismatch");
    const same = await agent
      .post("/stepup/api/challenges")
      .unset("origin")
      .set("sec-fetch-site", "same-origin")
      .send({ resource: "data", action: "export" });
    expect(same.status).toBe(201);
  });
});

describe("challenges cannot be used to fill the store", () => {
  it("30 interrupted form posts keep at most 20 challenges; a 17 KiB form is 413 and not kept", async () => {
    const { agent, id } = await enrolled();
    for (let i = 0; i < 30; i++) {
      const res = await agent
        .post("/account/delete")
        .set("accept", "text/html")
        .type("form")
        .send({ reason: `r${i}` });
      expect(res.status).toBe(401);
    }
    expect(await challengeCount(id)).toBe(20);
    const big = await agent
      .post("/account/delete")
      .set("accept", "text/html")
      .type("form")
      .send({ reason: "x".repeat(17 * 1024) });
    expect(big.status).toBe(413);
    const json = await agent
      .post("/account/delete")
      .type("form")
      .send({ reason: "x".repeat(17 * 1024) });
    expectProblem(json, 413, "payload_too_large");
  });

  it("a kept form is sealed at rest: the store never holds its fields in clear", async () => {
    const { agent, id } = await enrolled();
    const res = await agent.post("/account/delete").type("form").send({ password: "hunter2-secret-field" });
    const { challengeId } = expectProblem(res, 401, "step_up_required");
    const [raw] = await store.getMany(id, [`challenge:${challengeId}`]);
    expect(raw).toBeTruthy();
    expect(raw).not.toContain("hunter2");
  });
});

describe("what is approved is what is shown", () => {
  it("the transfer's description is on the page and in the 401, and bound to the grant", async () => {
    const { agent, secret } = await enrolled();
    const page = await agent
      .post("/transfer")
      .set("accept", "text/html")
      .type("form")
      .send({ amount: "1234", to: "alice" });
    expect(page.status).toBe(401);
    expect(page.text).toContain("Send 1234 to alice");
    const json = await agent.post("/transfer").send({ amount: 1234, to: "alice" });
    const body = expectProblem(json, 401, "step_up_required");
    expect(body.description).toBe("Send 1234 to alice");
    expect((await verify(agent, String(body.challengeId), await currentCode(secret))).status).toBe(200);
    // "1234" from a form and 1234 from JSON are one amount: the grant pays it once.
    const paid = await agent.post("/transfer").type("form").send({ amount: "1234", to: "alice" });
    expect(paid.body).toMatchObject({ transferred: true, amount: 1234, to: "alice" });
  });

  it("typed values: an array where an amount should be is refused, never matched to a grant", async () => {
    const { agent, secret } = await enrolled();
    const first = expectProblem(
      await agent.post("/transfer").send({ amount: "100", to: "bob" }),
      401,
      "step_up_required",
    );
    expect((await verify(agent, String(first.challengeId), await currentCode(secret))).status).toBe(200);
    for (const amount of [["100"], { $gt: 0 }, "1e2", " 100", -100, 0]) {
      expectProblem(await agent.post("/transfer").send({ amount, to: "bob" }), 400, "invalid_input");
    }
    expectProblem(await agent.post("/transfer").send({ amount: "100", to: ["bob"] }), 400, "invalid_input");
    // The grant is still there for exactly what was approved.
    expect((await agent.post("/transfer").send({ amount: 100, to: "bob" })).status).toBe(200);
  });
});

describe("enrollment race", () => {
  it("an enrollment started before the victim's first factor cannot be confirmed afterwards", async () => {
    const email = uniqueEmail();
    const victim = demo.agent();
    await victim.post("/signup").send({ email, password: PASSWORD });
    // The attacker holds the password, not the second factor: their own session, same user.
    const attacker = demo.agent();
    await attacker.post("/login").send({ email, password: PASSWORD });
    const started = await attacker.post("/stepup/api/factors/totp").send({});
    expect(started.status).toBe(201);
    await enrollTotp(victim);
    const code = await codeFor(String(started.body.secret), Date.now());
    const confirm = await attacker
      .post(`/stepup/api/factors/totp/${started.body.factorId}/confirm`)
      .send({ code });
    expect([401, 404]).toContain(confirm.status);
    expect(confirm.body.error).toMatch(/^(step_up_required|enrollment_not_found)$/);
    const factors = await victim.get("/stepup/api/factors");
    expect(factors.body.factors).toHaveLength(1);
  });

  it("a second factor started while fresh but confirmed when stale needs a new step-up (and then works)", async () => {
    const agent = demo.agent();
    const email = await signUp(agent);
    const { recoveryCodes } = await enrollTotp(agent);
    // Step up with a recovery code: a TOTP code now would use up this time step for the user, and
    // the new app's first code (same step) would then be refused as a replay.
    const first = await verifyRecovery(agent, await openChallenge(agent), recoveryCodes[1] ?? "");
    expect(first.status, first.text).toBe(200);
    const second = await agent.post("/stepup/api/factors/totp").send({});
    expect(second.status).toBe(201);
    // The step-up ends (a new step-up session after logging in again) before the code is typed.
    await agent.post("/logout").send({});
    await agent.post("/login").send({ email, password: PASSWORD });
    const code = await codeFor(String(second.body.secret), Date.now());
    const path = `/stepup/api/factors/totp/${second.body.factorId}/confirm`;
    const stale = expectProblem(await agent.post(path).send({ code }), 401, "step_up_required");
    expect(stale).toMatchObject({ resource: "stepup", action: "factor.add" });
    // Stepping up on the challenge it gave (here with a recovery code) and retrying works.
    const recovery = (stale.factors as { id: string; type: string }[]).find((f) => f.type === "recovery");
    const verified = await agent
      .post(`/stepup/api/challenges/${stale.challengeId}/verify`)
      .send({ factor: "recovery", factorId: recovery?.id, code: recoveryCodes[0] });
    expect(verified.status, verified.text).toBe(200);
    const confirmed = await agent.post(path).send({ code });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect((await agent.get("/stepup/api/factors")).body.factors).toHaveLength(2);
  });
});

describe("sign-in redirect and return (the demo's login as an app would write it)", () => {
  // Attack: an open redirect. The login form carries the `returnTo` the sign-in redirect gave; a
  // forged one must never send the user off-site after they typed their password.
  it("a signed-out browser goes to the login and, after it, back to the same-origin path only", async () => {
    const email = uniqueEmail();
    await demo.agent().post("/signup").send({ email, password: PASSWORD });
    const page = await demo.agent().get("/admin").set("accept", "text/html");
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/?returnTo=%2Fadmin");
    const home = await demo.agent().get("/?returnTo=%2Fadmin");
    expect(home.text).toContain('name="returnTo" value="/admin"');
    const login = (returnTo: string) =>
      demo.agent().post("/login").type("form").send({ email, password: PASSWORD, returnTo });
    expect((await login("/admin")).headers.location).toBe("/admin");
    for (const foreign of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "evil.example"]) {
      expect((await login(foreign)).headers.location, foreign).toBe("/");
    }
  });
});
