import { describe, expect, it } from "vitest";
import { offered } from "../../test/page-factors.js";
import { renderChallengePage, renderConsolePage } from "./index.js";

const base = { appName: "Acme", nonce: "n0nce", basePath: "/stepup" };

describe("recovery codes on the pages", () => {
  it("the challenge page offers a recovery-code form posting factor=recovery with its factor id", () => {
    const page = renderChallengePage({
      ...base,
      challengeId: "c".repeat(22),
      resource: "account",
      action: "delete",
      factors: [
        offered({ id: "t1", type: "totp", name: "Phone", primary: true }),
        offered({ id: "r1", type: "recovery", name: "Recovery codes", primary: false }),
      ],
      csrfToken: "tok",
      consoleUrl: "/stepup/console",
    });
    expect(page).toContain('name="factor" value="recovery"');
    expect(page).toContain('name="factorId" value="r1"');
    expect(page).not.toContain("not available on this page yet");
  });

  it("new codes are shown escaped, with the remaining count; nothing when recovery is off", () => {
    const data = {
      ...base,
      user: { id: "a" },
      csrfToken: "tok",
      factors: [
        {
          ...offered({ id: "t1", type: "totp", name: "Phone", primary: true }),
          createdAt: "2026-01-01T00:00:00Z",
          lastUsedAt: null,
        },
      ],
    };
    const shown = renderConsolePage({
      ...data,
      recoveryCodesRemaining: 9,
      newRecoveryCodes: ["<b>AAAA</b>"],
    });
    expect(shown).toContain("&lt;b&gt;AAAA&lt;/b&gt;");
    expect(shown).toContain("9 unused codes.");
    expect(shown).toContain('action="/stepup/console/recovery-codes"');
    expect(renderConsolePage({ ...data, recoveryCodesRemaining: null })).not.toContain("Recovery codes");
  });

  it("new codes: shown once at the top, Copy/Download for the script, confirmed by a GET link", () => {
    const page = renderConsolePage({
      ...base,
      user: { id: "a", email: "ada@example.com" },
      csrfToken: "tok",
      factors: [],
      returnTo: "/account",
      recoveryCodesRemaining: 2,
      newRecoveryCodes: ["AAAA-BBBB-CCCC-DDDD", "</script><script>alert(1)</script>"],
    });
    expect(page.indexOf('id="recovery-codes"')).toBeLessThan(page.indexOf('id="factors-title"'));
    expect(page).toContain("They are shown only this once:");
    // Without JavaScript the list is there to read and select; the buttons wait for the script.
    expect(page).toContain('<div class="code-actions" id="stepup-code-actions" hidden>');
    expect(page).toContain('href="/stepup/console?returnTo=%2Faccount">I have saved these codes</a>');
    // The data goes through the JSON block, never into script source.
    const json = /id="stepup-data">(.*?)<\/script>/s.exec(page)?.[1] ?? "";
    expect(JSON.parse(json)).toMatchObject({
      page: "console",
      recoveryCodes: ["AAAA-BBBB-CCCC-DDDD", "</script><script>alert(1)</script>"],
      codesFile: { name: "acme-recovery-codes.txt", title: "Acme recovery codes for ada@example.com" },
    });
    expect(page).not.toContain("<script>alert(1)");
    expect(page).toContain('<script type="module" src="/stepup/assets/stepup.js" nonce="n0nce"></script>');
  });

  it("without new codes the console has no codes panel and no script (passkeys off)", () => {
    const page = renderConsolePage({
      ...base,
      user: { id: "a" },
      csrfToken: "t",
      factors: [],
      recoveryCodesRemaining: 10,
    });
    expect(page).not.toContain("stepup-code-actions");
    expect(page).not.toContain("<script");
  });
});
