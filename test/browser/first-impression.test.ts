// What a user meets first, in a real Chromium: the rule's words on the page and in the modal,
// recovery codes shown once (Copy, Download .txt, and a reload that re-posts nothing), a wait
// that counts down, a Cancel that stays on this site, and no serious or critical axe findings
// on any of it, light or dark. The README's screenshots come from here (test/artifacts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type Browser,
  currentCode,
  enrollTotp,
  launchBrowser,
  seriousViolationsInBothSchemes,
  signUp,
  startLocalDemo,
} from "./browser.js";

type StepUpWindow = { stepup: { stepUpFetch(input: string): Promise<Response> } };

/** Every request the page makes while `run` runs, as "METHOD path". */
async function requestsDuring(page: Page, run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (r: { method(): string; url(): string }) =>
    seen.push(`${r.method()} ${new URL(r.url()).pathname}`);
  page.on("request", listener);
  try {
    await run();
  } finally {
    page.off("request", listener);
  }
  return seen;
}

describe("first impression in Chromium", () => {
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;
  let secret = "";
  let codes: string[] = [];

  beforeAll(async () => {
    demo = await startLocalDemo();
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  it("the demo home page is axe-clean, signed out and signed in, light and dark", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await signUp(page, demo.origin);
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "home.png"), fullPage: true });
  });

  it("recovery codes: shown once after a redirect, with Copy and Download .txt; axe-clean", async () => {
    const { page, context } = b;
    const enrolled = await enrollTotp(page, demo.origin);
    secret = enrolled.secret;
    codes = enrolled.recovery;
    expect(codes).toHaveLength(10);
    // Post-redirect-get: the page showing the codes is a GET of the console.
    expect(new URL(page.url()).pathname).toBe("/stepup/console");
    await page.getByRole("heading", { name: "Save your recovery codes" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-recovery-codes.png"), fullPage: true });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);

    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.origin });
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join("\n"));

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download .txt" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("stepup-demo-recovery-codes.txt");
    const text = readFileSync((await download.path()) ?? "", "utf8");
    expect(text).toMatch(/^Stepup demo recovery codes for browser-.*@example\.com\n/);
    for (const code of codes) expect(text).toContain(`\n${code}\n`);
  });

  it("PRG: reloading after 'I have saved these codes' re-posts nothing", async () => {
    const { page } = b;
    const saved = await requestsDuring(page, async () => {
      await page.getByRole("link", { name: "I have saved these codes" }).click();
      await page.waitForURL(`${demo.origin}/stepup/console`);
    });
    expect(saved.filter((r) => r.startsWith("POST"))).toEqual([]);
    const reloaded = await requestsDuring(page, () => page.reload());
    expect(reloaded).toContain("GET /stepup/console");
    expect(reloaded.filter((r) => r.startsWith("POST"))).toEqual([]);
    expect(await page.locator("#recovery-codes").count()).toBe(0);
    await page.getByText("10 unused codes.").waitFor();
  });

  it("the challenge page says the rule's label, is axe-clean light and dark, and Cancel goes back", async () => {
    const { page } = b;
    const res = await page.goto(`${demo.origin}/admin`, { referer: `${demo.origin}/stepup/console` });
    expect(res?.status()).toBe(401);
    await page.getByText("You're about to open the admin panel.", { exact: false }).waitFor();
    expect(await page.content()).not.toContain("read admin");
    await page.screenshot({ path: join(ARTIFACTS, "challenge-label.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(ARTIFACTS, "challenge-label-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForURL(`${demo.origin}/stepup/console`);
  });

  it("Cancel never leads to another site: a foreign referer gives the home page", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/admin`, { referer: "https://evil.example/phish" });
    expect(await page.getByRole("link", { name: "Cancel" }).getAttribute("href")).toBe("/");
  });

  it("the modal says the label, uses the one-time-code input, and is axe-clean light and dark", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
    await page.waitForFunction(() => "stepup" in window);
    const result = page.evaluate(async () => {
      const res = await (window as unknown as StepUpWindow).stepup.stepUpFetch("/api/export");
      return res.status;
    });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("You're about to export your data.");
    const input = dialog.getByLabel("Verification code");
    for (const [name, value] of [
      ["autocomplete", "one-time-code"],
      ["inputmode", "numeric"],
      ["maxlength", "6"],
      ["minlength", "6"],
    ]) {
      expect(await input.getAttribute(name ?? "")).toBe(value);
    }
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "modal-label.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(ARTIFACTS, "modal-label-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await input.fill(await currentCode(secret));
    await dialog.getByRole("button", { name: "Verify" }).click();
    expect(await result).toBe(200);
  });
});

describe("a 429 counts down in Chromium", () => {
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;
  let secret = "";

  beforeAll(async () => {
    // After one failure, each attempt waits a growing delay (2 s, 4 s, ...): a short real wait.
    demo = await startLocalDemo({ limits: { lockout: { delayAfter: 1 } } });
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  it("PRG: reloading the page that shows new codes re-posts nothing, and they are gone", async () => {
    const { page } = b;
    await signUp(page, demo.origin);
    secret = (await enrollTotp(page, demo.origin)).secret;
    expect(await page.locator("#recovery-codes code").count()).toBe(10);
    const reloaded = await requestsDuring(page, () => page.reload());
    expect(reloaded.filter((r) => r.startsWith("POST"))).toEqual([]);
    expect(await page.locator("#recovery-codes").count()).toBe(0);
  });

  it("the page says when, holds the code form until then, and lets the right code through after", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/admin`);
    const right = await currentCode(secret);
    const wrong = right === "000000" ? "111111" : "000000";
    for (const attempt of [1, 2]) {
      await page.getByLabel("Verification code").fill(wrong);
      await page.getByRole("button", { name: "Verify" }).click();
      await page.locator(attempt === 1 ? "text=That code is not valid." : "[data-stepup-retry]").waitFor();
    }
    const wait = page.locator("[data-stepup-retry]");
    expect(await wait.textContent()).toMatch(/^Try again in [12] seconds?\.$/);
    await page.screenshot({ path: join(ARTIFACTS, "challenge-wait.png"), fullPage: true });
    expect(await page.getByRole("button", { name: "Verify" }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Verification code").isDisabled()).toBe(true);
    // The recovery form is not held: recovery codes skip the wait.
    await page.locator("summary", { hasText: "Use a recovery code" }).click();
    expect(await page.getByRole("button", { name: "Use recovery code" }).isDisabled()).toBe(false);

    await expect.poll(() => wait.textContent(), { timeout: 5_000 }).toBe("You can try again now.");
    expect(await page.getByRole("button", { name: "Verify" }).isDisabled()).toBe(false);
    await page.getByLabel("Verification code").fill(await currentCode(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Admin panel" }).waitFor();
  });

  it("the modal holds its code form the same way, counting down on the Verify button", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
    await page.waitForFunction(() => "stepup" in window);
    const result = page.evaluate(() =>
      (
        window as unknown as { stepup: { openStepUp(o: Record<string, string>): Promise<unknown> } }
      ).stepup.openStepUp({ resource: "data", action: "export", label: "export your data" }),
    );
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("You're about to export your data.");
    const input = dialog.getByLabel("Verification code");
    for (const _ of [1, 2]) {
      await input.fill("000000");
      await dialog.locator("form button[type=submit]").first().click();
      await expect.poll(() => dialog.locator(".su-error").textContent()).not.toBe("");
    }
    await expect
      .poll(() => dialog.locator(".su-error").textContent())
      .toMatch(/^Too many attempts\. Verification is paused for [12] seconds?\.$/);
    const verify = dialog.locator("form button[type=submit]").first();
    expect(await verify.textContent()).toMatch(/^Try again in [12] seconds?$/);
    expect(await verify.isDisabled()).toBe(true);
    expect(await input.isDisabled()).toBe(true);
    // Focus waits on Cancel (never on the inert page, where Escape would do nothing), then returns.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await expect.poll(() => verify.textContent(), { timeout: 5_000 }).toBe("Verify");
    expect(await verify.isDisabled()).toBe(false);
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await result).toMatchObject({ success: false, payload: [{ error: "cancelled" }] });
  });
});
