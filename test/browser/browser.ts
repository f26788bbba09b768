import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { memoryStore } from "@stepup/core";
import { createDemoApp, type DemoOptions } from "@stepup/example-express";
import { type BrowserContext, type CDPSession, chromium, type Page } from "playwright-core";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET, uniqueEmail } from "../support/demo.js";
import { awayFromStepBoundary, codeFor, STEP_MS } from "../support/totp.js";

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts");

/** The demo on a loopback port, reached as http://localhost:<port>: WebAuthn refuses IP addresses. */
export async function startLocalDemo(
  options: { limits?: DemoOptions["limits"]; admins?: DemoOptions["admins"] } = {},
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  const app = createDemoApp({
    store: memoryStore(),
    sessionSecret: SESSION_SECRET,
    stepupSecret: STEPUP_SECRET,
    origin,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.admins ? { admins: options.admins } : {}),
  });
  server.on("request", app);
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  close(): Promise<void>;
}

/** Debian's chromium with a fresh profile and a CDP virtual authenticator (a platform passkey). */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "stepup-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1000, height: 800 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    cdp,
    authenticatorId,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs up through the demo's home page form. */
export async function signUp(page: Page, origin: string, email = uniqueEmail("browser")): Promise<string> {
  await page.goto(`${origin}/`);
  const form = page.locator('form[action="/signup"]');
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Sign up" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
  return email;
}

/**
 * Enrolls TOTP in the console, confirming with the previous step's code so the current step stays
 * unused for the step-up that follows. Returns the secret and the recovery codes shown once.
 */
export async function enrollTotp(
  page: Page,
  origin: string,
): Promise<{ secret: string; recovery: string[] }> {
  await page.goto(`${origin}/stepup/console`);
  await page.getByRole("button", { name: "Add authenticator app" }).click();
  const secret = (await page.locator("#enroll-secret").getAttribute("data-secret")) ?? "";
  await awayFromStepBoundary();
  await page.locator("#enroll-code").fill(await codeFor(secret, Date.now() - STEP_MS));
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByText("Authenticator app added.").waitFor();
  const recovery = await page.locator("#recovery-codes code").allTextContents();
  return { secret, recovery };
}

export const currentCode = (secret: string) => codeFor(secret, Date.now());

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the current page. Evaluated over CDP, which the
 * page's CSP does not govern, so the page under test keeps its real CSP.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as {
      id: string;
      impact: string;
      help: string;
      nodes: { target: unknown; failureSummary?: string }[];
    }[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes
          .slice(0, 3)
          .map((n) => `${JSON.stringify(n.target)} ${n.failureSummary?.split("\n").slice(1).join(" ") ?? ""}`)
          .join("; ")})`,
    );
}

/**
 * `seriousViolations` in the light and the dark colour scheme (prefers-color-scheme), labelled by
 * scheme; the page is left in the light scheme.
 */
export async function seriousViolationsInBothSchemes(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    // Reduced motion turns the pages' colour transitions off: axe must see the settled colours.
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    found.push(...(await seriousViolations(page)).map((v) => `${colorScheme}: ${v}`));
  }
  await page.emulateMedia({ colorScheme: "light", reducedMotion: "no-preference" });
  return found;
}
