// What the challenge page tells the user before and after a refusal: what they are confirming
// (the rule's label), when they may try again (a 429's wait), that they are locked and how to get
// back in, and a way out (Cancel) that can only lead back to this site.

import { describe, expect, it } from "vitest";
import { offered } from "../../test/page-factors.js";
import { type ChallengePageData, renderChallengePage } from "./index.js";

const base = { appName: "Acme", nonce: "n0nce", basePath: "/stepup" };
const TOTP = offered({ id: "t1", type: "totp", name: "Phone", primary: true });
const RECOVERY = offered({ id: "r1", type: "recovery", name: "Recovery codes", primary: false });

function page(overrides: Partial<ChallengePageData> = {}): string {
  return renderChallengePage({
    ...base,
    challengeId: "ch_1",
    resource: "admin",
    action: "read",
    factors: [TOTP, RECOVERY],
    csrfToken: "csrf-1",
    consoleUrl: "/stepup/console",
    ...overrides,
  });
}

const dataOf = (html: string) =>
  JSON.parse(/id="stepup-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null") as Record<string, unknown>;
const openTags = (html: string, name: string) => html.match(new RegExp(`<${name}\\b[^>]*>`, "gi")) ?? [];

describe("challenge page: the rule's label", () => {
  it("says the label in the lead instead of '<action> <resource>'", () => {
    const html = page({ label: "open the admin panel" });
    expect(html).toContain("You're about to <strong>open the admin panel</strong>.");
    expect(html).not.toContain("read admin");
  });

  it("keeps today's wording without a label, and escapes a label that looks like markup", () => {
    expect(page()).toContain("You're about to <strong>read admin</strong>.");
    const html = page({ label: "</strong><script>alert(1)</script>" });
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&lt;/strong&gt;&lt;script&gt;");
  });
});

describe("challenge page: a 429 says when to try again", () => {
  it.each([
    [1, "Try again in 1 second."],
    [45, "Try again in 45 seconds."],
    [60, "Try again in 1 minute."],
    [61, "Try again in 2 minutes."],
    [900, "Try again in 15 minutes."],
    [7200, "Try again in 2 hours."],
  ])("retryAfter %i s reads %s, without JavaScript", (retryAfter, text) => {
    const html = page({ retryAfter });
    expect(html).toContain(`<span data-stepup-retry>${text}</span>`);
    expect(html).toContain("<strong>Too many attempts.</strong>");
  });

  it("loads the page script with the wait as data, and marks the code form for it", () => {
    const html = page({ retryAfter: 120, error: "Too many attempts. Try again later." });
    expect(dataOf(html)).toMatchObject({ page: "challenge", retryAfter: 120 });
    expect(html).toContain('<script type="module" src="/stepup/assets/stepup.js" nonce="n0nce"></script>');
    expect(openTags(html, "form")[0]).toContain("data-stepup-wait");
    // The recovery form is not held: recovery codes skip the wait.
    expect(openTags(html, "form")[1]).not.toContain("data-stepup-wait");
    expect(html).toContain("You can still use a recovery code.");
    // One alert, which says when; the server's "later" is not repeated, nor is the input invalid.
    expect(html.match(/role="alert"/g)).toHaveLength(1);
    expect(html).not.toContain("Try again later.");
    expect(openTags(html, "input").find((t) => t.includes('name="code"'))).not.toContain("aria-invalid");
  });

  it("without a wait there is no script on a TOTP-only page and no countdown", () => {
    const html = page({ error: "That code is not valid." });
    expect(openTags(html, "script")).toHaveLength(0);
    expect(html).not.toContain("data-stepup-retry");
  });
});

describe("challenge page: user_locked", () => {
  it("says verification is locked and points at the recovery form, open", () => {
    const html = page({ userLocked: true, factors: [RECOVERY] });
    expect(html).toContain("<strong>Verification is locked.</strong>");
    expect(html).toContain("Use one of your recovery codes below to get back in");
    expect(html).toMatch(/<details class="recovery" open>/);
    expect(html).toContain('name="factor" value="recovery"');
    expect(html).not.toContain('name="factor" value="totp"');
  });

  it("without a recovery path it says to contact support; a wrong recovery code still shows its error", () => {
    expect(page({ userLocked: true, factors: [] })).toContain("Contact support to unlock it.");
    const html = page({ userLocked: true, factors: [RECOVERY], error: "That code is not valid." });
    expect(html).toContain("Verification is locked.");
    expect(html).toContain("That code is not valid.");
  });
});

describe("challenge page: Cancel", () => {
  it("links back to the given page and keeps it in both forms across a wrong code", () => {
    const html = page({ cancelUrl: "/settings?tab=security" });
    expect(html).toContain('<a class="link-button" href="/settings?tab=security">Cancel</a>');
    expect(html.match(/name="cancel" value="\/settings\?tab=security"/g)).toHaveLength(2);
  });

  it.each(["https://evil.example/", "//evil.example/", "javascript:alert(1)"])(
    "never renders %s as the link (safeUrl is the last line; cancelUrlFor the first)",
    (cancelUrl) => {
      const html = page({ cancelUrl });
      expect(html).not.toMatch(/href="(https:|\/\/|javascript:)/);
    },
  );
});
