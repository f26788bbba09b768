import { describe, expect, it } from "vitest";
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
        { id: "t1", type: "totp", name: "Phone", primary: true },
        { id: "r1", type: "recovery", name: "Recovery codes", primary: false },
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
          id: "t1",
          type: "totp",
          name: "Phone",
          primary: true,
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
});
