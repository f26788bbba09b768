// Threat: a stolen password is enough to sign in. After the app's own password check, a user with
// a factor must prove it before the app signs them in: the password alone yields a challenge, and
// the app learns "verified" exactly once, only in the browser that proved it (a replayed or copied
// completion, or another browser, gets nothing).
import { type EmailMessage, email, type StepUpUser, totp } from "@stepup/core";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";
import { csrfIn, signInBrowser } from "../../test/sign-in-browser.js";
import type { StepUpHttp } from "../create-step-up-http.js";

const alice: StepUpUser = { id: "alice", email: "alice@example.com" };
const step = (n = 0) => Math.floor(Date.now() / 1000) + n * 30;

/** Enrolls TOTP for alice through the engine; returns the code for a time step from now. */
async function enrollTotp(http: StepUpHttp, user: StepUpUser = alice) {
  const started = (await http.engine.factors.enrollStart(user, "totp", {}, undefined)) as {
    factorId: string;
    secret: string;
  };
  await http.engine.factors.enrollConfirm(
    user,
    "totp",
    started.factorId,
    { code: await generate({ secret: started.secret, epoch: step(-1) }) },
    undefined,
  );
  return (n = 0) => generate({ secret: started.secret, epoch: step(n) });
}

async function withTotp() {
  const http = testHttp({ factors: [totp()] });
  const code = await enrollTotp(http);
  return { http, code };
}

describe("beginSignIn: the password alone yields a challenge for session:sign-in", () => {
  it("a login form gets the challenge page inline (401), with the step-up and sign-in cookies", async () => {
    const { http } = await withTotp();
    const browser = signInBrowser(http);
    const { outcome, response } = await browser.login("alice", "page");
    expect(outcome.kind).toBe("step-up-required");
    if (!response) throw new Error("proceeded without a factor");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("sign in");
    const [session, signIn] = response.headers.getSetCookie();
    expect(session).toMatch(/^stepup=Fe26\.2\*/);
    expect(signIn).toMatch(/^stepup_signin=Fe26\.2\*[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);
  });

  it("a fetch gets 401 step_up_required for session:sign-in, with what the modal needs", async () => {
    const { http } = await withTotp();
    const { response } = await signInBrowser(http).login("alice", "json");
    expect(response?.status).toBe(401);
    expect(response?.headers.get("content-type")).toBe("application/problem+json");
    const body = (await response?.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      error: "step_up_required",
      resource: "session",
      action: "sign-in",
      label: "sign in",
      factors: [{ type: "totp" }],
    });
    expect(body.challengeUrl).toBe(`/stepup/challenge/${body.challengeId}`);
  });

  it("over https the cookies are __Host- prefixed and Secure", async () => {
    const { http } = await withTotp();
    const request = new Request("https://app.example/login", {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const outcome = await http.beginSignIn(request, "alice");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const names = outcome.cookies.map((c) => [c.name, c.attributes.secure]);
    expect(names).toEqual([
      ["__Host-stepup", true],
      ["__Host-stepup_signin", true],
    ]);
  });

  it("a user with no factor proceeds at once: nothing to prove, no cookies", async () => {
    const http = testHttp();
    const { outcome } = await signInBrowser(http).login("bob");
    expect(outcome).toEqual({ kind: "proceed", reason: "no-factor", cookies: [] });
  });

  it("a policy hook that blocks the sign-in refuses it (403), the password alone does not get through", async () => {
    const http = testHttp({ policy: { decide: () => "BLOCK" } });
    await enrollTotp(http);
    const { outcome, response } = await signInBrowser(http).login("alice", "json");
    expect(outcome.kind).toBe("blocked");
    expect(response?.status).toBe(403);
  });

  it("a cross-site login post starts nothing in this browser", async () => {
    const { http } = await withTotp();
    const request = new Request("http://localhost:3000/login", {
      method: "POST",
      headers: { origin: "https://evil.example", accept: "application/json" },
    });
    const outcome = await http.beginSignIn(request, "alice");
    expect(outcome.kind).toBe("error");
    if (outcome.kind !== "error") return;
    expect(http.render(request, outcome).status).toBe(403);
  });
});

describe("the second factor without JavaScript, signed out in the app", () => {
  it("the sign-in cookie lets the page verify; completion returns the user once, then null", async () => {
    const { http, code } = await withTotp();
    const browser = signInBrowser(http);
    const { outcome } = await browser.login("alice");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const url = `challenge/${outcome.opened.challenge.id}`;
    const page = await browser.stepup(url, "page", undefined, "GET");
    expect(page.status).toBe(200);
    const done = await browser.stepup(url, "page", {
      csrf: csrfIn(await page.text()),
      factor: "totp",
      code: await code(),
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/login/complete");
    const completed = await browser.complete();
    expect(completed?.userId).toBe("alice");
    expect(browser.jar.has("stepup_signin")).toBe(false); // the completion clears it
    expect(browser.jar.has("stepup")).toBe(true); // the step-up session goes on
    expect(await browser.complete()).toBeNull();
  });

  it("replay: the completion request sent again with the same cookies gets null", async () => {
    const { http, code } = await withTotp();
    const browser = signInBrowser(http);
    const { outcome } = await browser.login("alice", "json");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    await browser.stepup(`api/challenges/${outcome.opened.challenge.id}/verify`, "json", {
      factor: "totp",
      code: await code(),
    });
    const copy = browser.request("/login/complete", "page", undefined, "GET");
    expect((await http.completeSignIn(copy.clone()))?.userId).toBe("alice");
    expect(await http.completeSignIn(copy)).toBeNull();
  });

  it("another browser cannot complete it: no cookies, its own step-up cookie, or the proof unmade", async () => {
    const { http, code } = await withTotp();
    const victim = signInBrowser(http);
    const { outcome } = await victim.login("alice", "json");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    // The attacker knows the password too and holds a pending sign-in of their own.
    const attacker = signInBrowser(http);
    await attacker.login("alice", "json");
    // The victim proves the factor in the victim's browser.
    await victim.stepup(`api/challenges/${outcome.opened.challenge.id}/verify`, "json", {
      factor: "totp",
      code: await code(),
    });
    expect(await signInBrowser(http).complete()).toBeNull();
    expect(await attacker.complete()).toBeNull();
    // Even with the victim's sign-in cookie stolen, the attacker's step-up session holds no proof.
    const stolen = attacker.jar;
    stolen.set("stepup_signin", victim.jar.get("stepup_signin") ?? "");
    expect(await attacker.complete()).toBeNull();
    expect((await victim.complete())?.userId).toBe("alice");
  });

  it("a forged or expired sign-in cookie is no identity: 401 unauthenticated", async () => {
    const now = { ms: Date.now() };
    const http = testHttp({ factors: [totp()], clock: { now: () => now.ms } });
    await enrollTotp(http);
    const browser = signInBrowser(http);
    const { outcome } = await browser.login("alice", "json");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const path = `api/challenges/${outcome.opened.challenge.id}/start`;
    const sealed = browser.jar.get("stepup_signin") ?? "";
    browser.jar.set("stepup_signin", `${sealed.slice(0, -6)}AAAA~2`);
    const forged = await browser.stepup(path, "json", { factor: "totp" });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: "unauthenticated" });
    browser.jar.set("stepup_signin", sealed);
    expect((await browser.stepup(path, "json", { factor: "totp" })).status).toBe(200);
    now.ms += 601_000;
    const expired = await browser.stepup(path, "json", { factor: "totp" });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: "unauthenticated" });
  });
});

describe("sign-in with the email code factor", () => {
  it("the code is sent and verified through the sign-in identity; the retried login proceeds", async () => {
    const mail: EmailMessage[] = [];
    const http = testHttp({ factors: [email({ send: async (m) => void mail.push(m) })] });
    const started = (await http.engine.factors.enrollStart(
      alice,
      "email",
      { email: alice.email },
      undefined,
    )) as {
      factorId: string;
    };
    const codeOf = () => /\b(\d{6})\b/.exec(mail.at(-1)?.text ?? "")?.[1] ?? "";
    await http.engine.factors.enrollConfirm(alice, "email", started.factorId, { code: codeOf() }, undefined);
    const browser = signInBrowser(http);
    const { outcome } = await browser.login("alice", "json");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const api = `api/challenges/${outcome.opened.challenge.id}`;
    const before = mail.length;
    const sent = await browser.stepup(`${api}/start`, "json", { factor: "email" });
    expect(sent.status).toBe(200);
    expect(mail).toHaveLength(before + 1);
    expect(mail.at(-1)?.to).toBe(alice.email);
    const verified = await browser.stepup(`${api}/verify`, "json", { factor: "email", code: codeOf() });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ success: true, resource: "session", action: "sign-in" });
    // stepUpFetch retries the login: the app checks the password again and calls beginSignIn.
    const retried = await browser.login("alice", "json");
    expect(retried.outcome).toMatchObject({ kind: "proceed", reason: "verified" });
    expect(browser.jar.has("stepup_signin")).toBe(false);
    // The proof was spent on that login: no second completion, and a new login asks again.
    expect(await browser.complete()).toBeNull();
    expect((await browser.login("alice", "json")).outcome.kind).toBe("step-up-required");
  });

  it("alice's proof does not sign in another user who logs in from the same browser", async () => {
    const { http, code } = await withTotp();
    await enrollTotp(http, { id: "mallory" });
    const browser = signInBrowser(http);
    const { outcome } = await browser.login("alice", "json");
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    await browser.stepup(`api/challenges/${outcome.opened.challenge.id}/verify`, "json", {
      factor: "totp",
      code: await code(),
    });
    // Mallory's password, alice's proof in the jar: mallory still has her own factor to prove.
    expect((await browser.login("mallory", "json")).outcome.kind).toBe("step-up-required");
    expect(await browser.complete()).toBeNull();
  });
});

describe("a trusted device skips the sign-in factor", () => {
  it("the device cookie of a remembered verification lets the sign-in proceed", async () => {
    const { http, code } = await withTotp();
    const opened = await http.engine.openChallenge(alice, "device-sid", http.engine.signIn.rule);
    const verified = await http.engine.challenges.verify(alice, "device-sid", opened.challenge.id, {
      factor: "totp",
      code: await code(),
      rememberDevice: true,
    });
    const browser = signInBrowser(http);
    browser.jar.set("stepup_device", verified.device.value);
    expect((await browser.login("alice")).outcome).toMatchObject({
      kind: "proceed",
      reason: "trusted-device",
    });
    // Without it (another browser), the factor is asked.
    expect((await signInBrowser(http).login("alice")).outcome.kind).toBe("step-up-required");
  });
});
