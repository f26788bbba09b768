// The Next demo in Chromium: the "Delete my account" button calls a Server Action through
// useStepUp; the step-up dialog opens on the typed stepUpRequired result, and the action is retried.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type Browser,
  currentCode,
  enrollTotp,
  launchBrowser,
  seriousViolationsInBothSchemes,
  signUp,
} from "./browser/browser.js";
import { type NextDemo, startNextDemo } from "./support/next.js";

describe("examples/next in Chromium: Server Action + useStepUp", () => {
  let demo: NextDemo;
  let b: Browser;
  let secret = "";

  beforeAll(async () => {
    demo = await startNextDemo();
    b = await launchBrowser();
    await signUp(b.page, demo.origin);
    secret = (await enrollTotp(b.page, demo.origin)).secret;
  }, 90_000);
  afterAll(async () => {
    await b?.close();
    await demo?.stop();
  });

  it("the home page is axe-clean light and dark; the dialog says the rule's label", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "next-home.png"), fullPage: true });
    await page.locator("#delete-account-action").click();
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    // The label comes from the demo's `rules` config, shared by the action and the route.
    expect(await dialog.textContent()).toContain("You're about to delete your account.");
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await page.keyboard.press("Escape");
  });

  it("cancelling the dialog gives the typed { ok: false, error: 'cancelled' }", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    await page.locator("#delete-account-action").click();
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await expect
      .poll(() => page.locator("#delete-account-result").textContent())
      .toBe("Not deleted: cancelled");
  });

  it("pressing the button, completing the dialog with a TOTP code, runs the action", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    await page.locator("#delete-account-action").click();
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByLabel("Verification code").fill(await currentCode(secret));
    await dialog.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => page.locator("#delete-account-result").textContent()).toBe("Account deleted.");
    expect(await page.locator("dialog").count()).toBe(0);
  });
});
