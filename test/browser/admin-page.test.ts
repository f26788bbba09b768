// The demo's /admin/users in a real Chromium: the page shows nothing about the user until the
// administrator has confirmed it's them in stepup's dialog (stepUpFetch on the admin API's 401), and
// what the API says is written as text. Then a reset from the page leaves the user no factor.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail } from "../support/demo.js";
import { addTotp, signUp as signUpOverHttp } from "../support/policy.js";
import { Browser as HttpBrowser } from "../support/process.js";
import {
  ARTIFACTS,
  type Browser,
  currentCode,
  enrollTotp,
  launchBrowser,
  signUp,
  startLocalDemo,
} from "./browser.js";

describe("the demo's admin page in Chromium", () => {
  const adminEmail = uniqueEmail("admin");
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;

  beforeAll(async () => {
    demo = await startLocalDemo({ admins: [adminEmail] });
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  it("asks the administrator to confirm it's them before showing the user, then resets them from the page", async () => {
    // A user with TOTP (the XSS probe in the factor name is shown as text, never run).
    const http = new HttpBrowser();
    const target = await addTotp(http, demo.origin, await signUpOverHttp(http, demo.origin, "target"));
    const factors = await http.get(demo.origin, "/stepup/api/factors");
    const factorId = (factors.json.factors as { id: string }[])[0]?.id;
    const renamed = await http.request(demo.origin, "PATCH", `/stepup/api/factors/${factorId}`, {
      name: "<img src=x onerror=alert(1)>",
    });
    expect(renamed.status, renamed.text).toBe(200);

    const { page } = b;
    await signUp(page, demo.origin, adminEmail);
    const { secret } = await enrollTotp(page, demo.origin);
    await page.goto(`${demo.origin}/admin/users?user=${encodeURIComponent(target.email)}`);
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await dialog.waitFor();
    await expect.poll(() => page.locator("[data-status] dl").count()).toBe(0);
    await dialog.getByLabel("Verification code").fill(await currentCode(secret));
    await dialog.getByRole("button", { name: "Verify" }).click();
    const status = page.locator("[data-status] dl");
    await status.waitFor();
    await expect.poll(() => status.textContent()).toContain("Two-step verificationon");
    expect(await status.textContent()).toContain("<img src=x onerror=alert(1)>");
    expect(await page.locator("[data-status] img").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "admin-users.png") });

    await page.getByRole("button", { name: "Reset two-step verification" }).click();
    await page.getByText("Reset: the user was told by email.").waitFor();
    expect(await status.textContent()).toContain("Two-step verificationoff");
    expect((await http.get(demo.origin, "/stepup/api/factors")).json).toEqual({
      factors: [],
      recoveryCodesRemaining: 0,
    });
  });
});
