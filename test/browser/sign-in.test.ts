// Threat: a stolen password signs the attacker in. In a real Chromium, an app whose login calls
// `beginSignIn` after its password check: a login posted with `stepUpFetch` meets the modal, and
// its automatic retry signs the user in once the factor is proved; a plain form login (no
// JavaScript in the app) goes through the challenge page to the completion route.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { memoryStore, totp } from "@stepup/core";
import { stepUp } from "@stepup/express";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awayFromStepBoundary, codeFor, STEP_MS } from "../support/totp.js";
import { type Browser, launchBrowser } from "./browser.js";

/** A minimal app: a password check that accepts anyone, its own session in a plain cookie. */
async function startApp() {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "browser-sign-in-secret-0123456789abcdef",
    appName: "Acme",
    factors: [totp()],
    getUser: (req) => {
      const id = /(?:^|; )app_user=([\w-]+)/.exec(req.get("cookie") ?? "")?.[1];
      return id ? { id } : null;
    },
    logger: { warn() {}, error() {} },
  });
  const app = express();
  app.use(express.urlencoded({ extended: false }), express.json());
  app.use("/stepup", stepup.router);
  const signIn = (res: express.Response, userId: string) =>
    res.append("set-cookie", `app_user=${userId}; Path=/; HttpOnly; SameSite=Lax`);
  app.get("/", (_req, res) => {
    res.type("html").send(`<!doctype html><title>Acme</title><h1>Acme</h1>
<form method="post" action="/login"><input name="username" value="bob"><button>Sign in</button></form>`);
  });
  app.post("/login", async (req, res) => {
    const userId = String(req.body.username); // the app's own password check goes here
    if (await stepup.beginSignIn(req, res, userId, { returnTo: "/login/complete" })) return;
    signIn(res, userId);
    res.json({ signedIn: userId });
  });
  app.get("/login/complete", async (req, res) => {
    const userId = await stepup.completeSignIn(req, res);
    if (!userId) {
      res.status(401).type("html").send("<h1>Sign-in expired</h1>");
      return;
    }
    signIn(res, userId);
    res.type("html").send(`<h1>Welcome, ${userId}</h1>`);
  });
  app.use(stepup.errorHandler);
  // Two users, each with an authenticator app: a TOTP code is good once per factor.
  const secrets: Record<string, string> = {};
  await awayFromStepBoundary();
  for (const id of ["alice", "bob"]) {
    const engine = stepup.http.engine;
    const started = (await engine.factors.enrollStart({ id }, "totp", {}, undefined)) as {
      factorId: string;
      secret: string;
    };
    const code = await codeFor(started.secret, Date.now() - STEP_MS);
    await engine.factors.enrollConfirm({ id }, "totp", started.factorId, { code }, undefined);
    secrets[id] = started.secret;
  }
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    codeOf: (id: string) => codeFor(secrets[id] ?? "", Date.now()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type StepUpWindow = { stepup: { stepUpFetch(input: string, init?: RequestInit): Promise<Response> } };

describe("sign-in second factor in Chromium", () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let b: Browser;

  beforeAll(async () => {
    app = await startApp();
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await app?.close();
  });

  it("a login posted with stepUpFetch opens the modal; its retry signs the user in", async () => {
    const { page } = b;
    await b.context.clearCookies();
    await page.goto(`${app.origin}/`);
    await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
    await page.waitForFunction(() => "stepup" in window);
    const result = page.evaluate(async () => {
      const res = await (window as unknown as StepUpWindow).stepup.stepUpFetch("/login", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ username: "alice", password: "hunter2" }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("sign in");
    await awayFromStepBoundary();
    await dialog.getByLabel("Verification code").fill(await app.codeOf("alice"));
    await dialog.getByRole("button", { name: "Verify" }).click();
    const { status, body } = await result;
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ signedIn: "alice" });
    const names = (await b.context.cookies()).map((c) => c.name);
    expect(names).toContain("app_user");
    expect(names).not.toContain("stepup_signin"); // the pending sign-in ended with the login
  });

  it("a plain form login goes through the challenge page to the completion route, once", async () => {
    const { page } = b;
    await b.context.clearCookies();
    await page.goto(`${app.origin}/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForTimeout(1500);
    await page.getByLabel("Verification code").waitFor();
    expect(await page.textContent("body")).toContain("sign in");
    await awayFromStepBoundary();
    await page.getByLabel("Verification code").fill(await app.codeOf("bob"));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Welcome, bob" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/login/complete");
    await page.reload();
    await page.getByRole("heading", { name: "Sign-in expired" }).waitFor();
  });
});
