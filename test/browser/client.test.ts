// @stepup/browser's client API in a real Chromium, loaded the way an app loads it: the bundle from
// /stepup/assets/stepup.js, then window.stepup.openStepUp / stepUpFetch from the app's own script.
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type Browser,
  currentCode,
  enrollTotp,
  launchBrowser,
  signUp,
  startLocalDemo,
} from "./browser.js";

type StepUpWindow = {
  stepup: {
    openStepUp(o: { resource: string; action: string }): Promise<unknown>;
    stepUpFetch(input: string, init?: RequestInit): Promise<Response>;
  };
};

/** The demo home page with the bundle loaded, as an app page would include it. */
async function appPage(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
  await page.waitForFunction(() => "stepup" in window);
}

describe("@stepup/browser client in Chromium", () => {
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;
  let secret = "";
  let recovery: string[] = [];

  beforeAll(async () => {
    demo = await startLocalDemo();
    b = await launchBrowser();
    await signUp(b.page, demo.origin);
    const enrolled = await enrollTotp(b.page, demo.origin);
    secret = enrolled.secret;
    recovery = [...enrolled.recovery];
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  it("stepUpFetch retries /api/export once the modal is completed with a TOTP code", async () => {
    const { page } = b;
    await appPage(page, demo.origin);
    const result = page.evaluate(async () => {
      const res = await (window as unknown as StepUpWindow).stepup.stepUpFetch("/api/export");
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    const input = dialog.getByLabel("Verification code");
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "modal.png") });
    await input.fill(await currentCode(secret));
    await dialog.getByRole("button", { name: "Verify" }).click();
    const { status, body } = await result;
    expect(status).toBe(200);
    expect(body).toMatchObject({ records: [] });
    expect(await page.locator("dialog").count()).toBe(0);
  });

  it("a transfer's modal shows what is approved; the retried request pays exactly that", async () => {
    // Attack: approving one thing while another is paid. The dialog shows the server's words for
    // the transaction (bound into its digest), as text, not markup.
    const { page } = b;
    await appPage(page, demo.origin);
    const result = page.evaluate(async () => {
      const res = await (window as unknown as StepUpWindow).stepup.stepUpFetch("/transfer", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ amount: 250, to: "carol" }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    const approval = dialog.getByRole("group", { name: "What you are approving" });
    expect(await approval.textContent()).toContain("Send 250 to carol");
    // A recovery code: the current TOTP step may already be used by the test before.
    await dialog.getByText("Use a recovery code").click();
    await dialog.getByLabel("Recovery code").fill(recovery.shift() ?? "");
    await dialog.getByRole("button", { name: "Use recovery code" }).click();
    const { status, body } = await result;
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ transferred: true, amount: 250, to: "carol" });
  });

  it("openStepUp resolves { success: false, error: 'cancelled' } on Escape, with focus trapped meanwhile", async () => {
    const { page } = b;
    await appPage(page, demo.origin);
    const result = page.evaluate(() =>
      (window as unknown as StepUpWindow).stepup.openStepUp({ resource: "account", action: "delete" }),
    );
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press(i % 3 === 2 ? "Shift+Tab" : "Tab");
      expect(await page.evaluate(() => document.activeElement?.closest("dialog") !== null)).toBe(true);
    }
    await page.keyboard.press("Escape");
    expect(await result).toEqual({
      success: false,
      payload: [{ success: false, sid: null, timestamp: null, action: "delete", error: "cancelled" }],
    });
    expect(await page.locator("dialog").count()).toBe(0);
  });

  it("openStepUp from a page script resolves with the documented shape after a passkey", async () => {
    const { page } = b;
    // Register a passkey (the TOTP step-up above keeps the session fresh for factor.add).
    await page.goto(`${demo.origin}/stepup/console`);
    await page.getByRole("button", { name: "Add a passkey or security key" }).click();
    await page.locator(".factor-list").getByText("Security key or passkey").waitFor();

    await appPage(page, demo.origin);
    const result = page.evaluate(() =>
      (window as unknown as StepUpWindow).stepup.openStepUp({ resource: "payment", action: "transfer" }),
    );
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.getByRole("button", { name: "Use a passkey or security key" }).click();
    const value = (await result) as { success: boolean; payload: Record<string, unknown>[] };
    expect(value.success).toBe(true);
    expect(value.payload).toHaveLength(1);
    expect(value.payload[0]).toEqual({
      success: true,
      sid: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      action: "transfer",
      error: null,
    });
  });
});
