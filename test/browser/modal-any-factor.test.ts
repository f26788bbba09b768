// The openStepUp modal renders a factor it has never heard of from its declaration alone: a
// throwaway send-first "pin" plugin on a real stepup server (Express adapter), driven in Chromium.
import { randomInt } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type FactorPlugin, type FactorUi, memoryStore, recoveryCodes, StepUpError } from "@stepup/core";
import { stepUp } from "@stepup/express";
import express from "express";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STEPUP_SECRET } from "../support/demo.js";
import { ARTIFACTS, type Browser, launchBrowser, seriousViolationsInBothSchemes } from "./browser.js";

const HOSTILE = `<img src=x onerror="window.__pwned=1">`;
const RESEND_MS = 2000;

/** What the plugins "sent", newest last, and how the next send goes. */
const sent: string[] = [];
let sending: "ok" | "rate_limited" | "delivery_failed" = "ok";

/** A send-first code factor that records its codes instead of delivering them. */
function sentCode(type: string, ui: FactorUi, destination: string): FactorPlugin {
  const key = (challengeId: string) => `code:${challengeId}`;
  return {
    type,
    level: "mfa",
    amr: ["otp"],
    ui,
    describe: () => ({ destination }),
    enrollStart: async () => ({ pending: {}, response: {}, name: ui.title }),
    enrollConfirm: async () => ({ data: {} }),
    async challengeStart(ctx, _factor, challenge) {
      if (sending === "rate_limited")
        throw new StepUpError("RATE_LIMITED", "Too many codes were sent.", { retryAfter: 2 });
      if (sending === "delivery_failed") throw new StepUpError("DELIVERY_FAILED", "The code was not sent.");
      const code = String(randomInt(0, 10_000)).padStart(4, "0");
      await ctx.store.set(key(challenge.id), code, 600);
      sent.push(code);
      const expiresAtMs = ctx.nowMs + 600_000;
      const resendAfterMs = ctx.nowMs + RESEND_MS;
      // The API's ISO times (and core's CodeSent fields, for an HTTP layer that converts them).
      return {
        sent: true,
        destination,
        expiresAt: new Date(expiresAtMs).toISOString(),
        resendAfter: new Date(resendAfterMs).toISOString(),
        expiresAtMs,
        resendAfterMs,
      };
    },
    async verify(ctx, _factor, challenge, input) {
      const code =
        typeof input === "object" && input !== null ? (input as { code?: unknown }).code : undefined;
      const expected = await ctx.store.get(key(challenge.id));
      if (expected === null || code !== expected) return { ok: false, reason: "INVALID_CODE" };
      await ctx.store.delete([key(challenge.id)]);
      return { ok: true };
    },
  };
}

const pin = sentCode(
  "pin",
  { title: "Desk PIN", prompt: { kind: "code", label: "Desk PIN", digits: 4, send: true } },
  "desk 4",
);
const hostile = sentCode(
  "badge",
  {
    title: HOSTILE,
    prompt: { kind: "code", label: HOSTILE, hint: "We sent it to {destination}.", maxLength: 8, send: true },
  },
  HOSTILE,
);

/** A typed code that is not sent (the code printed on a desk tag): any other factor type. */
const TAG_CODE = "K7P2QX";
const tag: FactorPlugin = {
  type: "tag",
  level: "mfa",
  amr: ["otp"],
  ui: {
    title: "Desk tag",
    prompt: {
      kind: "code",
      label: "Tag code",
      hint: "Read the code printed on your desk tag for {appName}.",
      maxLength: 8,
      placeholder: "XXXXXX",
      submit: "Check tag",
    },
  },
  enrollStart: async () => ({ pending: {}, response: {}, name: "Desk tag" }),
  enrollConfirm: async () => ({ data: {} }),
  verify: async (_ctx, _factor, _challenge, input) =>
    (input as { code?: unknown }).code === TAG_CODE ? { ok: true } : { ok: false, reason: "INVALID_CODE" },
};

/** A stepup server whose user is named by a `user` cookie; alice has a pin, mallory a hostile badge. */
async function startServer(): Promise<{
  origin: string;
  enroll(id: string, type: string): Promise<void>;
  close(): Promise<void>;
}> {
  const stepup = stepUp({
    store: memoryStore(),
    secret: STEPUP_SECRET,
    appName: "Desk app",
    factors: [pin, hostile, tag, recoveryCodes()],
    rules: { "desk:open": { label: "open the desk drawer" } },
    getUser: (req) => ({ id: /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? "")?.[1] ?? "alice" }),
  });
  /** A user's first factor, enrolled server-side (no step-up is due for a first one). */
  const enroll = async (id: string, type: string) => {
    const started = await stepup.http.engine.factors.enrollStart({ id }, type, {}, undefined);
    const factorId = "factorId" in started ? started.factorId : undefined;
    await stepup.http.engine.factors.enrollConfirm({ id }, type, factorId, {}, undefined);
  };
  await enroll("alice", "pin");
  await enroll("mallory", "badge");
  const app = express();
  app.use("/stepup", stepup.router);
  app.get("/", (_req, res) => {
    res
      .type("html")
      .send("<!doctype html><html lang=en><title>Desk</title><main><h1>Desk</h1></main></html>");
  });
  app.use(stepup.errorHandler);
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    enroll,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type StepUpWindow = { stepup: { openStepUp(o: { resource: string; action: string }): Promise<unknown> } };

/** The app page with the served bundle, and an openStepUp for desk:open running in it. */
async function openDesk(page: Page, origin: string) {
  await page.goto(`${origin}/`);
  await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
  await page.waitForFunction(() => "stepup" in window);
  const result = page.evaluate(() =>
    (window as unknown as StepUpWindow).stepup.openStepUp({ resource: "desk", action: "open" }),
  );
  // A test that fails midway leaves it pending: the next navigation must not make it unhandled.
  result.catch(() => undefined);
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  await dialog.waitFor();
  return { result, dialog };
}

describe("openStepUp renders a factor from its declaration (Chromium)", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let b: Browser;

  beforeAll(async () => {
    server = await startServer();
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it("a send-first pin: Send, a 4-digit field, Resend after a countdown, a wrong then the right code", async () => {
    sending = "ok";
    const { page } = b;
    const { result, dialog } = await openDesk(page, server.origin);
    expect(await dialog.textContent()).toContain("You're about to open the desk drawer.");
    // The method in words (the field's label is hidden until a code is sent).
    await dialog.getByText("Desk PIN").first().waitFor();
    expect(await dialog.getByLabel("Desk PIN").isVisible()).toBe(false);
    const send = dialog.getByRole("button", { name: "Send code to desk 4" });
    await expect.poll(() => send.evaluate((el) => el === document.activeElement)).toBe(true);
    const before = sent.length;
    await send.click();

    const input = dialog.getByLabel("Desk PIN");
    await input.waitFor();
    expect(sent.length).toBe(before + 1);
    for (const [name, value] of [
      ["inputmode", "numeric"],
      ["autocomplete", "one-time-code"],
      ["minlength", "4"],
      ["maxlength", "4"],
    ] as const) {
      expect(await input.getAttribute(name)).toBe(value);
    }
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await dialog.getByRole("status").filter({ hasText: "We sent" }).textContent()).toBe(
      "We sent a code to desk 4.",
    );
    const resend = dialog.getByRole("button", { name: /^Resend code/ });
    expect(await resend.isDisabled()).toBe(true);
    expect(await resend.textContent()).toMatch(/^Resend code in [12] seconds?$/);
    await page.screenshot({ path: join(ARTIFACTS, "modal-send-code.png") });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await expect.poll(() => resend.textContent(), { timeout: 5_000 }).toBe("Resend code");
    expect(await resend.isDisabled()).toBe(false);
    await resend.click();
    await expect.poll(() => sent.length).toBe(before + 2);
    await expect.poll(() => resend.isDisabled()).toBe(true);

    const right = sent.at(-1) ?? "";
    await input.fill(right === "0000" ? "1111" : "0000");
    await dialog.getByRole("button", { name: "Verify" }).click();
    await expect
      .poll(() => dialog.getByRole("alert").textContent())
      .toMatch(/not valid.* 4 attempts left\.$/);
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    await input.fill(right);
    await dialog.getByRole("button", { name: "Verify" }).click();
    expect(await result).toEqual({
      success: true,
      payload: [
        {
          success: true,
          sid: expect.any(String),
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          action: "open",
          error: null,
        },
      ],
    });
    expect(await page.locator("dialog").count()).toBe(0);
  });

  it("a failed delivery can be retried; a send limit holds the button, counting down, then lets it go", async () => {
    const { page } = b;
    const { result, dialog } = await openDesk(page, server.origin);
    const send = dialog.getByRole("button", { name: "Send code to desk 4" });
    const alert = dialog.getByRole("alert");

    sending = "delivery_failed";
    await send.click();
    await expect.poll(() => alert.textContent()).toMatch(/^We couldn't send the code\./);
    expect(await send.isDisabled()).toBe(false);

    sending = "rate_limited";
    await send.click();
    await expect.poll(() => alert.textContent()).toBe("Too many codes were sent.");
    const held = dialog.locator(".su-send > button").first();
    expect(await held.textContent()).toMatch(/^Try again in [12] seconds?$/);
    expect(await held.isDisabled()).toBe(true);
    await expect.poll(() => held.textContent(), { timeout: 5_000 }).toBe("Send code to desk 4");
    expect(await held.isDisabled()).toBe(false);

    sending = "ok";
    await send.click();
    await dialog.getByLabel("Desk PIN").waitFor();
    await page.keyboard.press("Escape");
    expect(await result).toMatchObject({ success: false, payload: [{ error: "cancelled" }] });
  });

  it("another type waits behind 'Use <title> instead', a text field with the declared words", async () => {
    sending = "ok";
    const { page } = b;
    await b.context.addCookies([{ name: "user", value: "carol", url: server.origin }]);
    try {
      // carol: a pin, then (stepped up with it, as adding a factor needs) a desk tag.
      await server.enroll("carol", "pin");
      let { result, dialog } = await openDesk(page, server.origin);
      const before = sent.length;
      await dialog.getByRole("button", { name: "Send code to desk 4" }).click();
      // The click returns before the server has sent: read the code only once it has.
      await expect.poll(() => sent.length).toBe(before + 1);
      await dialog.getByLabel("Desk PIN").fill(sent.at(-1) ?? "");
      await dialog.getByRole("button", { name: "Verify" }).click();
      expect(await result).toMatchObject({ success: true });
      const added = await page.evaluate(async () => {
        const post = (url: string) =>
          fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        const started = (await (await post("/stepup/api/factors/tag")).json()) as { factorId: string };
        return (await post(`/stepup/api/factors/tag/${started.factorId}/confirm`)).status;
      });
      expect(added).toBeLessThan(300);

      ({ result, dialog } = await openDesk(page, server.origin));
      await dialog.getByRole("button", { name: "Send code to desk 4" }).waitFor();
      const other = dialog.locator("summary", { hasText: "Use Desk tag instead" });
      expect(await dialog.getByLabel("Tag code").isVisible()).toBe(false);
      await other.click();
      const input = dialog.getByLabel("Tag code");
      for (const [name, value] of [
        ["type", "text"],
        ["maxlength", "8"],
        ["placeholder", "XXXXXX"],
      ] as const) {
        expect(await input.getAttribute(name)).toBe(value);
      }
      expect(await input.getAttribute("inputmode")).toBeNull();
      expect(await dialog.textContent()).toContain("Read the code printed on your desk tag.");
      await input.fill(TAG_CODE);
      await dialog.getByRole("button", { name: "Check tag" }).click();
      expect(await result).toMatchObject({ success: true, payload: [{ success: true, error: null }] });
    } finally {
      await b.context.clearCookies({ name: "user" });
    }
  });

  it("a hostile title, label and destination are shown as text, never markup", async () => {
    sending = "ok";
    const { page } = b;
    await b.context.addCookies([{ name: "user", value: "mallory", url: server.origin }]);
    try {
      const { result, dialog } = await openDesk(page, server.origin);
      await dialog.getByRole("button", { name: `Send code to ${HOSTILE}` }).click();
      await dialog.getByText(`We sent a code to ${HOSTILE}.`).waitFor();
      const text = (await dialog.textContent()) ?? "";
      expect(text).toContain(HOSTILE); // the label
      expect(text).toContain(`We sent it to ${HOSTILE}.`); // the hint, its {destination} filled in
      expect(await dialog.getByLabel(HOSTILE).count()).toBe(1);
      expect(await dialog.locator("img").count()).toBe(0);
      expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
      await dialog.getByRole("button", { name: "Cancel" }).click();
      expect(await result).toMatchObject({ success: false, payload: [{ error: "cancelled" }] });
    } finally {
      await b.context.clearCookies({ name: "user" });
    }
  });
});
