// Threat: a stolen password signs the attacker in. With a factor enrolled, the login handler's
// `beginSignIn` answers with the challenge instead of letting the app sign in; the completion
// route learns the user once, only in the browser that proved the factor. Real Express 5 through
// supertest (an agent is one browser's cookie jar).
import { type EmailMessage, email, memoryStore, type StepUpUser } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

const alice: StepUpUser = { id: "alice", email: "alice@example.com" };

async function app() {
  const mail: EmailMessage[] = [];
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    // The app's own session is not there until the sign-in completes.
    getUser: () => null,
    factors: [email({ send: async (m) => void mail.push(m) })],
    logger: { warn() {}, error() {} },
  });
  const engine = stepup.http.engine;
  const started = (await engine.factors.enrollStart(alice, "email", { email: alice.email }, undefined)) as {
    factorId: string;
  };
  /** The code of the last email sent. */
  const code = () => /\b(\d{6})\b/.exec(mail.at(-1)?.text ?? "")?.[1] ?? "";
  await engine.factors.enrollConfirm(alice, "email", started.factorId, { code: code() }, undefined);
  const a = express();
  a.use(express.urlencoded({ extended: false }), express.json());
  a.use("/stepup", stepup.router);
  a.post("/login", async (req, res) => {
    const userId = String(req.body.username); // the app's password check goes here
    if (await stepup.beginSignIn(req, res, userId, { returnTo: "/login/complete" })) return;
    res.json({ signedIn: userId });
  });
  a.get("/login/complete", async (req, res) => {
    const userId = await stepup.completeSignIn(req, res);
    res.status(userId ? 200 : 401).json({ signedIn: userId });
  });
  a.use(stepup.errorHandler);
  return { app: a, code, mail };
}

const csrfIn = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

describe("@stepup/express sign-in second factor", () => {
  it("a login form gets the challenge page; the page verifies with no app session; completion once", async () => {
    const t = await app();
    const browser = request.agent(t.app);
    const login = await browser
      .post("/login")
      .set("accept", "text/html")
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ username: "alice", password: "hunter2" });
    expect(login.status).toBe(401);
    expect(login.headers["content-type"]).toMatch(/^text\/html/);
    expect(login.headers["set-cookie"]).toHaveLength(2);
    const id = /action="\/stepup\/challenge\/([\w-]+)"/.exec(login.text)?.[1] ?? "";
    const page = (fields: Record<string, string>) =>
      browser
        .post(`/stepup/challenge/${id}`)
        .set("accept", "text/html")
        .set("sec-fetch-site", "same-origin")
        .type("form")
        .send({ csrf: csrfIn(login.text), factor: "email", ...fields });
    const sent = await page({ intent: "send" });
    expect(sent.status).toBe(200);
    expect(t.mail.at(-1)?.to).toBe(alice.email);
    const verified = await page({ code: t.code() });
    expect(verified.status).toBe(303);
    expect(verified.headers.location).toBe("/login/complete");
    const done = await browser.get("/login/complete");
    expect(done.body).toEqual({ signedIn: "alice" });
    expect(String(done.headers["set-cookie"])).toMatch(/^stepup_signin=; .*Max-Age=0/);
    expect((await browser.get("/login/complete")).body).toEqual({ signedIn: null });
  });

  it("fetch: 401 step_up_required for session:sign-in; after the modal's verify the retried login signs in", async () => {
    const t = await app();
    const browser = request.agent(t.app);
    const login = () => browser.post("/login").set("accept", "application/json").send({ username: "alice" });
    const first = await login();
    expect(first.status).toBe(401);
    expect(first.body).toMatchObject({ error: "step_up_required", resource: "session", action: "sign-in" });
    const api = `/stepup/api/challenges/${first.body.challengeId}`;
    await browser.post(`${api}/start`).set("sec-fetch-site", "same-origin").send({ factor: "email" });
    const verified = await browser
      .post(`${api}/verify`)
      .set("sec-fetch-site", "same-origin")
      .send({ factor: "email", code: t.code() });
    expect(verified.status).toBe(200);
    const retried = await login();
    expect(retried.body).toEqual({ signedIn: "alice" });
    // The proof is spent: neither the completion route nor another retry gets it again.
    expect((await browser.get("/login/complete")).status).toBe(401);
    expect((await login()).status).toBe(401);
  });

  it("another browser (no cookies) cannot complete a sign-in proved elsewhere", async () => {
    const t = await app();
    const victim = request.agent(t.app);
    const first = await victim.post("/login").set("accept", "application/json").send({ username: "alice" });
    const api = `/stepup/api/challenges/${first.body.challengeId}`;
    await victim.post(`${api}/start`).set("sec-fetch-site", "same-origin").send({ factor: "email" });
    const verified = await victim
      .post(`${api}/verify`)
      .set("sec-fetch-site", "same-origin")
      .send({ factor: "email", code: t.code() });
    expect(verified.status).toBe(200);
    expect((await request(t.app).get("/login/complete")).status).toBe(401);
    expect((await victim.get("/login/complete")).body).toEqual({ signedIn: "alice" });
  });

  it("a user with no factor is signed in at once (beginSignIn is false)", async () => {
    const t = await app();
    const res = await request(t.app)
      .post("/login")
      .set("accept", "application/json")
      .send({ username: "bob" });
    expect(res.body).toEqual({ signedIn: "bob" });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});
