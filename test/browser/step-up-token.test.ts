// getStepUpToken in a real Chromium, loaded as an app loads it (the bundle, window.stepup): the user
// steps up in the modal once, the page gets a token, and a caller with that bearer alone (no cookie,
// another client entirely) exports the data. The attack it guards against: a token handed out
// without a fresh step-up (the first ask must open the modal, not return a token).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, currentCode, enrollTotp, launchBrowser, signUp, startLocalDemo } from "./browser.js";

type TokenWindow = {
  stepup: {
    getStepUpToken(o: { resource: string; action: string }): Promise<Record<string, unknown>>;
  };
};

describe("getStepUpToken in Chromium", () => {
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;
  let secret = "";

  beforeAll(async () => {
    demo = await startLocalDemo();
    b = await launchBrowser();
    await signUp(b.page, demo.origin);
    secret = (await enrollTotp(b.page, demo.origin)).secret;
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  it("not fresh: the modal first, then a token that opens /api/export for a cookie-less caller", async () => {
    const { page } = b;
    await page.goto(`${demo.origin}/`);
    await page.addScriptTag({ url: "/stepup/assets/stepup.js", type: "module" });
    await page.waitForFunction(() => "stepup" in window);
    const result = page.evaluate(() =>
      (window as unknown as TokenWindow).stepup.getStepUpToken({ resource: "data", action: "export" }),
    );
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await dialog.getByLabel("Verification code").fill(await currentCode(secret));
    await dialog.getByRole("button", { name: "Verify" }).click();
    const got = await result;
    expect(got).toMatchObject({ success: true, token: expect.any(String), expiresAt: expect.any(String) });
    expect(await page.locator("dialog").count()).toBe(0);

    // Fresh now: a second ask returns at once, with no dialog.
    const again = await page.evaluate(() =>
      (window as unknown as TokenWindow).stepup.getStepUpToken({ resource: "data", action: "export" }),
    );
    expect(again).toMatchObject({ success: true });
    expect(await page.locator("dialog").count()).toBe(0);

    const res = await fetch(`${demo.origin}/api/export`, {
      headers: { authorization: `Bearer ${String(got.token)}`, accept: "application/json" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ records: [] });
  });
});
