// The stepup pages in a real Chromium: TOTP and recovery through the no-JS forms, passkeys through
// the page script (@stepup/browser served at /stepup/assets/stepup.js), a CDP virtual authenticator.
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
  startLocalDemo,
} from "./browser.js";

describe("stepup pages in Chromium", () => {
  let demo: Awaited<ReturnType<typeof startLocalDemo>>;
  let b: Browser;
  let recovery: string[] = [];
  let assertion = { url: "", body: "" };

  beforeAll(async () => {
    demo = await startLocalDemo();
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await demo?.close();
  });

  async function clearStepUp(): Promise<void> {
    await b.context.clearCookies({ name: "stepup" });
  }

  it("signs up, enrolls TOTP in the console, steps up on /admin through the inline page", async () => {
    const { page } = b;
    await signUp(page, demo.origin);
    const enrolled = await enrollTotp(page, demo.origin);
    recovery = enrolled.recovery;
    expect(recovery.length).toBeGreaterThan(1);

    const challenge = await page.goto(`${demo.origin}/admin`);
    expect(challenge?.status()).toBe(401);
    await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await page.getByLabel("Verification code").fill(await currentCode(enrolled.secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Admin panel" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin");
  });

  it("registers a passkey from the console (page script, fresh step-up from /admin)", async () => {
    const { page, cdp, authenticatorId } = b;
    await page.goto(`${demo.origin}/stepup/console`);
    const add = page.getByRole("button", { name: "Add a passkey or security key" });
    await add.click();
    await page.locator(".factor-list").getByText("Security key or passkey").waitFor();
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.rpId).toBe("localhost");
    await page.screenshot({ path: join(ARTIFACTS, "console.png"), fullPage: true });
  });

  it("steps up with the passkey on a rule that requires level phishing-resistant", async () => {
    const { page } = b;
    const res = await page.goto(`${demo.origin}/admin/security`);
    expect(res?.status()).toBe(401);
    const button = page.getByRole("button", { name: "Use a passkey or security key" });
    await button.waitFor();
    // The TOTP form is not offered: a code cannot reach phishing-resistant.
    expect(await page.getByLabel("Verification code").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "challenge-passkey.png"), fullPage: true });
    const captured = page.waitForRequest((r) => /\/stepup\/api\/challenges\/[^/]+\/verify$/.test(r.url()));
    await button.click();
    await page.getByRole("heading", { name: "Security settings" }).waitFor();
    assertion = { url: (await captured).url(), body: (await captured).postData() ?? "" };
  });

  it("a captured passkey assertion cannot be replayed, on its own challenge or on a new one", async () => {
    const { page } = b;
    expect(assertion.body).toContain('"factor":"webauthn"');
    const statuses = await page.evaluate(async ({ url, body }) => {
      const post = (to: string, data: string) =>
        fetch(to, { method: "POST", headers: { "content-type": "application/json" }, body: data });
      const again = await post(url, body); // the same challenge: consumed by the first use
      const opened = await post(
        "/stepup/api/challenges",
        JSON.stringify({ resource: "security", action: "manage" }),
      );
      const { challengeId } = (await opened.json()) as { challengeId: string };
      const { factorId } = JSON.parse(body) as { factorId: string };
      await post(
        `/stepup/api/challenges/${challengeId}/start`,
        JSON.stringify({ factor: "webauthn", factorId }),
      );
      const replay = await post(`/stepup/api/challenges/${challengeId}/verify`, body);
      return [again.status, replay.status];
    }, assertion);
    expect(statuses).toEqual([404, 400]);
  });

  it("refuses an authenticator that did not verify the user where the rule requires it", async () => {
    const { page, cdp, authenticatorId } = b;
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    try {
      const res = await page.goto(`${demo.origin}/vault`);
      expect(res?.status()).toBe(401);
      await page.getByRole("button", { name: "Use a passkey or security key" }).click();
      await expect
        .poll(() => page.locator("#stepup-passkey [data-stepup-status]").textContent())
        .toMatch(/closed or no matching key/);
      expect(new URL(page.url()).pathname).toBe("/vault");
      expect(await page.getByRole("heading", { name: "Vault open" }).count()).toBe(0);
    } finally {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    }
    // The same key with user verification passes: the refusal was about UV, not the key.
    await page.getByRole("button", { name: "Use a passkey or security key" }).click();
    await page.getByRole("heading", { name: "Vault open" }).waitFor();
  });

  it("accepts a recovery code once; its second use fails", async () => {
    const { page } = b;
    const code = recovery[0] ?? "";
    for (const attempt of [1, 2]) {
      await clearStepUp();
      await page.goto(`${demo.origin}/admin`);
      await page.getByText("Use a recovery code").click();
      await page.getByLabel("Recovery code").fill(code);
      await page.getByRole("button", { name: "Use recovery code" }).click();
      if (attempt === 1) {
        await page.getByRole("heading", { name: "Admin panel" }).waitFor();
      } else {
        await page.locator("#challenge-error").waitFor();
        expect(await page.getByRole("heading", { name: "Admin panel" }).count()).toBe(0);
      }
    }
  });

  it("has no serious or critical axe violations on the challenge page and the console, light or dark", async () => {
    const { page } = b;
    await clearStepUp();
    await page.goto(`${demo.origin}/admin`, { referer: `${demo.origin}/` });
    await page.getByRole("button", { name: "Use a passkey or security key" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "challenge.png"), fullPage: true });
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
    await page.goto(`${demo.origin}/stepup/console`);
    await page.getByRole("button", { name: "Add a passkey or security key" }).waitFor();
    expect(await seriousViolationsInBothSchemes(page)).toEqual([]);
  });
});
