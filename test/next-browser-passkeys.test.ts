// The Next demo's passkey-only routes in Chromium, with a CDP virtual authenticator: a passkey
// registered from the console steps up where a phishable code may not (/admin/security), and
// /vault also demands user verification: an authenticator that only checked presence is refused,
// by the browser and, when a tampered page asks for no verification, by the server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, currentCode, enrollTotp, launchBrowser, signUp } from "./browser/browser.js";
import { type NextDemo, startNextDemo } from "./support/next.js";

describe("examples/next in Chromium: passkeys on the phishing-resistant routes", () => {
  let demo: NextDemo;
  let b: Browser;
  let secret = "";
  let passkeyRegistered = false;

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

  /** Each step-up below starts from no grant, so it passes or fails on its own. */
  async function freshStart(): Promise<void> {
    expect(passkeyRegistered, "needs the passkey from the registration test").toBe(true);
    await b.context.clearCookies({ name: "stepup" });
  }

  it("registers a passkey from /stepup/console after a TOTP step-up, bound to rpID localhost", async () => {
    const { page, cdp, authenticatorId } = b;
    // Adding a second factor must be proved with the first: step up with the code at /admin first.
    expect((await page.goto(`${demo.origin}/admin`))?.status()).toBe(401);
    await page.getByLabel("Verification code").fill(await currentCode(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Admin panel" }).waitFor();

    await page.goto(`${demo.origin}/stepup/console`);
    await page.getByRole("button", { name: "Add a passkey or security key" }).click();
    await page.locator(".factor-list").getByText("Security key or passkey").waitFor();
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.rpId).toBe("localhost");
    passkeyRegistered = true;
  });

  it("steps up at /admin/security with the passkey; no code form is offered", async () => {
    await freshStart();
    const { page } = b;
    expect((await page.goto(`${demo.origin}/admin/security`))?.status()).toBe(401);
    const button = page.getByRole("button", { name: "Use a passkey or security key" });
    await button.waitFor();
    expect(await page.getByLabel("Verification code").count()).toBe(0);
    await button.click();
    await page.getByRole("heading", { name: "Security settings" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/security");
  });

  it("Remember this device, ticked beside the passkey button, trusts this browser (the console says This device)", async () => {
    await freshStart();
    const { page } = b;
    expect((await page.goto(`${demo.origin}/admin/security`))?.status()).toBe(401);
    await page
      .locator("#stepup-passkey")
      .getByLabel(/Remember this device for \d+ days/)
      .check();
    await page.getByRole("button", { name: "Use a passkey or security key" }).click();
    await page.getByRole("heading", { name: "Security settings" }).waitFor();
    await page.goto(`${demo.origin}/stepup/console`);
    await page.getByRole("heading", { name: "Trusted devices" }).waitFor();
    expect(await page.getByText("This device").count()).toBe(1);
  });

  it("opens /vault with a passkey that verified the user", async () => {
    await freshStart();
    const { page } = b;
    expect((await page.goto(`${demo.origin}/vault`))?.status()).toBe(401);
    await page.getByRole("button", { name: "Use a passkey or security key" }).click();
    await page.getByRole("heading", { name: "Vault open" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/vault");
  });

  it("refuses /vault to an authenticator that did not verify the user", async () => {
    await freshStart();
    const { page, cdp, authenticatorId } = b;
    const button = page.getByRole("button", { name: "Use a passkey or security key" });
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    try {
      expect((await page.goto(`${demo.origin}/vault`))?.status()).toBe(401);
      await button.click();
      await expect
        .poll(() => page.locator("#stepup-passkey [data-stepup-status]").textContent())
        .toMatch(/closed or no matching key/);
      expect(new URL(page.url()).pathname).toBe("/vault");
      expect(await page.getByRole("heading", { name: "Vault open" }).count()).toBe(0);
    } finally {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    }
    // The same key on the same page passes once it verifies the user: the refusal was about UV.
    // (Chromium's virtual authenticator fails a verification it was asked to try even where the rule
    // only prefers UV: the server's own check is pinned by the next test.)
    await button.click();
    await page.getByRole("heading", { name: "Vault open" }).waitFor();
  });

  it("refuses /vault to an assertion without user verification, even from a page that asked for none", async () => {
    await freshStart();
    const { page, cdp, authenticatorId } = b;
    // The attack: a tampered page (or a relay between browser and server) asks the authenticator
    // for no user verification. Only the server's own record of the rule can refuse the result.
    const START = /\/stepup\/api\/challenges\/[^/]+\/start$/;
    await page.route(START, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { options: { userVerification?: string } };
      body.options.userVerification = "discouraged";
      await route.fulfill({ response, json: body });
    });
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    try {
      expect((await page.goto(`${demo.origin}/vault`))?.status()).toBe(401);
      const verified = page.waitForResponse((r) => /\/stepup\/api\/challenges\/[^/]+\/verify$/.test(r.url()));
      await page.getByRole("button", { name: "Use a passkey or security key" }).click();
      const res = await verified;
      expect({ status: res.status(), error: ((await res.json()) as { error?: string }).error }).toEqual({
        status: 400,
        error: "invalid_code",
      });
      expect(await page.getByRole("heading", { name: "Vault open" }).count()).toBe(0);
      expect(new URL(page.url()).pathname).toBe("/vault");
    } finally {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
      await page.unroute(START);
    }
    // The same key, asked for user verification as the server wants, passes on the same page.
    await page.getByRole("button", { name: "Use a passkey or security key" }).click();
    await page.getByRole("heading", { name: "Vault open" }).waitFor();
  });
});
