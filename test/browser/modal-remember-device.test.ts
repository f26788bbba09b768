// "Remember this device" in the openStepUp modal, on a real stepup server (Express adapter) whose
// rule allows trusted devices, driven in Chromium: the box is offered from the server's challenge
// data (a 401 step_up_required, an opened challenge), ticking it makes the verification (a TOTP
// code, a passkey) ask for `rememberDevice: true`, and once the rule's 1-second step-up has expired
// a remembered browser still passes while one that did not tick the box is challenged again.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { memoryStore, totp, webauthn } from "@stepup/core";
import { stepUp } from "@stepup/express";
import express from "express";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STEPUP_SECRET } from "../support/demo.js";
import { awayFromStepBoundary, codeFor, STEP_MS } from "../support/totp.js";
import { ARTIFACTS, type Browser, launchBrowser, seriousViolationsInBothSchemes } from "./browser.js";

const BOX = "Remember this device for 30 days";
/** Past the rule's maxAge of 1 second: the step-up itself is no longer fresh. */
const EXPIRED_MS = 1_500;

/** A stepup server whose user is named by a `user` cookie, with a rule a remembered device may skip. */
async function startServer(): Promise<{
  origin: string;
  enrollTotp(id: string): Promise<string>;
  close(): Promise<void>;
}> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // WebAuthn refuses IP addresses: the browser goes to localhost.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  const stepup = stepUp({
    store: memoryStore(),
    secret: STEPUP_SECRET,
    appName: "Reports",
    factors: [totp(), webauthn({ rpID: "localhost", origins: [origin] })],
    rules: { "report:view": { maxAge: 1, allowTrustedDevice: true, label: "view the report" } },
    getUser: (req) => ({ id: /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? "")?.[1] ?? "alice" }),
  });
  /** A first TOTP factor, enrolled server-side with the previous step's code; its secret. */
  const enrollTotp = async (id: string) => {
    await awayFromStepBoundary();
    const started = (await stepup.http.engine.factors.enrollStart({ id }, "totp", {}, undefined)) as {
      factorId: string;
      secret: string;
    };
    const code = await codeFor(started.secret, Date.now() - STEP_MS);
    await stepup.http.engine.factors.enrollConfirm({ id }, "totp", started.factorId, { code }, undefined);
    return started.secret;
  };
  const app = express();
  app.use("/stepup", stepup.router);
  app.get("/", (_req, res) => {
    res
      .type("html")
      .send("<!doctype html><html lang=en><title>Reports</title><main><h1>Reports</h1></main></html>");
  });
  app.get("/report", stepup.requireStepUp({ resource: "report", action: "view" }), (_req, res) => {
    res.json({ report: "quarterly" });
  });
  app.use(stepup.errorHandler);
  server.on("request", app);
  return {
    origin,
    enrollTotp,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type StepUpWindow = {
  stepup: {
    openStepUp(o: { resource: string; action: string; rememberDevice?: boolean }): Promise<unknown>;
    stepUpFetch(input: string, init?: RequestInit): Promise<Response>;
  };
};

/** The app page with the served bundle, as an app page would include it. */
async function appPage(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
  await page.waitForFunction(() => "stepup" in window);
}

/** openStepUp for report:view from the page; the dialog once it is shown. */
async function openReport(page: Page, rememberDevice?: boolean) {
  const result = page.evaluate(
    (remember) =>
      (window as unknown as StepUpWindow).stepup.openStepUp({
        resource: "report",
        action: "view",
        ...(remember === undefined ? {} : { rememberDevice: remember }),
      }),
    rememberDevice,
  );
  result.catch(() => undefined); // a test failing midway must not leave it unhandled
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  await dialog.waitFor();
  return { result, dialog };
}

/** A plain GET /report from the page: its status and problem code (no step-up, no retry). */
const getReport = (page: Page) =>
  page.evaluate(async () => {
    const res = await fetch("/report", { headers: { accept: "application/json" } });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, error: body.error, trustedDeviceDays: body.trustedDeviceDays };
  });

const isVerify = (r: Request) =>
  r.method() === "POST" && /\/stepup\/api\/challenges\/[^/]+\/verify$/.test(r.url());

describe("openStepUp: Remember this device (Chromium)", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let b: Browser;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    server = await startServer();
    for (const id of ["alice", "bob"]) secrets.set(id, await server.enrollTotp(id));
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  /** A fresh browser state (no step-up or device cookie) signed in as `id`. */
  const as = async (id: string) => {
    await b.context.clearCookies();
    await b.context.addCookies([{ name: "user", value: id, url: server.origin }]);
  };

  it("ticked with a TOTP code: verify asks to remember, and the expired rule passes without a challenge", async () => {
    await as("alice");
    const { page } = b;
    await appPage(page, server.origin);
    // stepUpFetch: the box comes from the 401 step_up_required's trustedDeviceDays.
    const result = page.evaluate(async () => {
      const res = await (window as unknown as StepUpWindow).stepup.stepUpFetch("/report");
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    const box = dialog.getByRole("checkbox", { name: BOX });
    expect(await box.isChecked()).toBe(false);
    // Once, below the ways to verify, right above Cancel; the code field keeps the first focus.
    expect(await dialog.getByRole("checkbox").count()).toBe(1);
    expect(await box.evaluate((el) => el.closest("label")?.nextElementSibling?.textContent)).toBe("Cancel");
    const input = dialog.getByLabel("Verification code");
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    // Reached by Tab inside the focus trap: code field, Verify, the box.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Space");
    expect(await box.isChecked()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "modal-remember-device.png") });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);

    const verify = page.waitForRequest(isVerify);
    await input.fill(await codeFor(secrets.get("alice") ?? "", Date.now()));
    await dialog.getByRole("button", { name: "Verify" }).click();
    expect((await verify).postDataJSON()).toMatchObject({ factor: "totp", rememberDevice: true });
    const { status, body } = await result;
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({ report: "quarterly" });

    await page.waitForTimeout(EXPIRED_MS);
    expect(await getReport(page)).toMatchObject({ status: 200 });
  });

  it("not ticked: verify does not ask, and once the step-up expires the rule challenges again", async () => {
    await as("bob");
    const { page } = b;
    await appPage(page, server.origin);
    // The app can hide the box.
    const hidden = await openReport(page, false);
    await hidden.dialog.getByLabel("Verification code").waitFor();
    expect(await hidden.dialog.getByRole("checkbox").count()).toBe(0);
    await page.keyboard.press("Escape");
    expect(await hidden.result).toMatchObject({ success: false, payload: [{ error: "cancelled" }] });

    // openStepUp: the box comes from POST /stepup/api/challenges' trustedDeviceDays.
    const { result, dialog } = await openReport(page);
    expect(await dialog.getByRole("checkbox", { name: BOX }).isChecked()).toBe(false);
    const verify = page.waitForRequest(isVerify);
    await dialog.getByLabel("Verification code").fill(await codeFor(secrets.get("bob") ?? "", Date.now()));
    await dialog.getByRole("button", { name: "Verify" }).click();
    expect((await verify).postDataJSON()).not.toHaveProperty("rememberDevice");
    expect(await result).toMatchObject({ success: true });
    expect(await getReport(page)).toMatchObject({ status: 200 }); // fresh for a second

    await page.waitForTimeout(EXPIRED_MS);
    expect(await getReport(page)).toEqual({
      status: 401,
      error: "step_up_required",
      trustedDeviceDays: 30,
    });
  });

  it("ticked with a passkey: the assertion asks to remember, and the expired rule passes", async () => {
    await as("carol");
    const { page } = b;
    // carol's first factor, a passkey (the console needs no step-up for a first one).
    await page.goto(`${server.origin}/stepup/console`);
    await page.getByRole("button", { name: "Add a passkey or security key" }).click();
    await page.locator(".factor-list").getByText("Security key or passkey").waitFor();

    await appPage(page, server.origin);
    const { result, dialog } = await openReport(page);
    const button = dialog.getByRole("button", { name: "Use a passkey or security key" });
    await button.waitFor();
    await dialog.getByRole("checkbox", { name: BOX }).check();
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    const verify = page.waitForRequest(isVerify);
    await button.click();
    expect((await verify).postDataJSON()).toMatchObject({ factor: "webauthn", rememberDevice: true });
    expect(await result).toMatchObject({ success: true });

    await page.waitForTimeout(EXPIRED_MS);
    expect(await getReport(page)).toMatchObject({ status: 200 });
  });
});
