import { describe, expect, it } from "vitest";
import { consoleMethods, offered } from "../../test/page-factors.js";
import {
  type ChallengePageData,
  type ConsolePageData,
  escapeHtml,
  type HtmlValue,
  html,
  jsonScript,
  raw,
  renderChallengePage,
  renderConsolePage,
  renderMessagePage,
  renderResubmitPage,
  SafeHtml,
} from "./index.js";

// The attacks: break out of a text node, out of a double-quoted attribute, and out of the <style>.
const PAYLOADS = ["<script>alert(1)</script>", '"onmouseover="alert(1)', "</style><script>alert(1)</script>"];
const NONCE = "t3st-nonce";
const base = { appName: "Acme", nonce: NONCE, basePath: "/stepup" };
const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

function challenge(overrides: Partial<ChallengePageData> = {}): ChallengePageData {
  return {
    ...base,
    challengeId: "ch_1",
    resource: "account",
    action: "delete",
    factors: [offered({ id: "f1", type: "totp", name: "Phone", primary: true })],
    csrfToken: "csrf-1",
    consoleUrl: "/stepup/console?returnTo=%2Faccount&x=1",
    ...overrides,
  };
}

function consolePage(overrides: Partial<ConsolePageData> = {}): ConsolePageData {
  return {
    ...base,
    user: { id: "u1", email: "ada@example.com" },
    csrfToken: "csrf-1",
    factors: [
      {
        ...offered({ id: "f1", type: "totp", name: "Phone", primary: true }),
        createdAt: "2025-01-12T10:00:00Z",
        lastUsedAt: null,
      },
      {
        ...offered({ id: "f2", type: "totp", name: "Laptop", primary: false }),
        createdAt: "2025-02-20T10:00:00Z",
        lastUsedAt: "2025-03-02T08:30:00Z",
      },
    ],
    methods: consoleMethods(["totp"]),
    ...overrides,
  };
}

/** Every page rendered with `value` in every untrusted string slot. */
function pagesWith(value: string): string[] {
  // Every text a plugin declares is untrusted too: its title, label, hint and a destination.
  const prompt = {
    kind: "code" as const,
    label: value,
    hint: `${value} {destination} {appName}`,
    placeholder: value,
  };
  const factor = {
    id: value,
    type: value,
    name: value,
    primary: false,
    title: value,
    prompt,
    destination: value,
  };
  const sent = { [value]: { destination: value, expiresIn: 60, resendIn: 0 } };
  return [
    renderChallengePage(
      challenge({
        appName: value,
        resource: value,
        action: value,
        error: value,
        challengeId: value,
        csrfToken: value,
        cancelUrl: value,
        factors: [offered({ id: value, name: value, type: "totp", primary: true }), factor],
      }),
    ),
    renderChallengePage(
      challenge({ factors: [{ ...factor, prompt: { ...prompt, send: true } }], sent, notice: value }),
    ),
    renderChallengePage(challenge({ appName: value, factors: [], consoleUrl: value })),
    renderConsolePage(
      consolePage({
        appName: value,
        user: { id: value, email: value },
        notice: value,
        error: value,
        returnTo: value,
        factors: [{ ...factor, createdAt: value, lastUsedAt: value, restricted: value }],
        methods: [
          ...consoleMethods(["totp"]),
          {
            type: value,
            title: value,
            prompt,
            enroll: {
              button: value,
              title: value,
              confirmLabel: value,
              fields: [
                {
                  name: value,
                  label: value,
                  type: "email",
                  hint: value,
                  placeholder: value,
                  fromUser: "email",
                },
              ],
            },
          },
        ],
        pending: {
          type: value,
          factorId: value,
          secret: value,
          otpauthUri: value,
          qrCode: value,
          destination: value,
          expiresAt: value,
        },
      }),
    ),
    renderMessagePage({
      ...base,
      appName: value,
      title: value,
      message: value,
      link: { href: value, label: value },
    }),
    renderResubmitPage({ ...base, appName: value, action: value, fields: [[value, value]] }),
  ];
}

/** The opening tags of `name` elements. */
function openTags(page: string, name: string): string[] {
  return page.match(new RegExp(`<${name}\\b[^>]*>`, "gi")) ?? [];
}

describe("html: escape by default", () => {
  it("escapes & < > \" ' and backtick in interpolated strings and numbers", () => {
    expect(html`<p title="${`&<>"'\``}">${42}</p>`.value).toBe(
      '<p title="&amp;&lt;&gt;&quot;&#39;&#96;">42</p>',
    );
    expect(escapeHtml("<b>")).toBe("&lt;b&gt;");
  });

  it("inserts SafeHtml as-is, joins arrays escaping each item, and drops null/undefined/false", () => {
    const items: HtmlValue[] = ["<a>", html`<b>ok</b>`, null, undefined, false];
    expect(html`${items}|${raw("<i>")}`.value).toBe("&lt;a&gt;<b>ok</b>|<i>");
  });

  it("does not trust a look-alike { value } object, only real SafeHtml", () => {
    const forged = { value: "<script>alert(1)</script>" } as unknown as SafeHtml;
    expect(html`${forged}`.value).not.toContain("<script>");
    expect(html`x`).toBeInstanceOf(SafeHtml);
  });
});

describe("XSS: untrusted page data cannot inject markup", () => {
  it.each(PAYLOADS)("renders %s escaped on every page", (payload) => {
    for (const page of pagesWith(payload)) {
      expect(page).not.toContain("<script>alert");
      expect(page).not.toContain('"onmouseover=');
      expect(page.match(/<\/style>/g)).toHaveLength(1);
    }
  });

  it("keeps javascript: URLs out of href and action attributes", () => {
    for (const page of pagesWith(" JaVa\tScRiPt:alert(1)")) {
      expect(page).not.toMatch(/(href|action)="\s*java\s*script:/i);
    }
    const page = renderChallengePage(challenge({ cancelUrl: "//evil.example/", factors: [] }));
    expect(page).not.toContain('href="//evil.example/"');
  });
});

describe("XSS: jsonScript data block", () => {
  it("cannot be broken out of with </script><script>, <!-- or U+2028", () => {
    const data = { s: "</script><script>alert(1)</script><!--", t: "a\u2028b\u2029c&" };
    const out = jsonScript("data", data).value;
    expect(out.match(/<\/script>/g)).toHaveLength(1);
    expect(out).not.toContain("<!--");
    expect(out).not.toMatch(/[\u2028\u2029]/);
    const body = out.replace(/^<script type="application\/json" id="data">/, "").replace(/<\/script>$/, "");
    expect(JSON.parse(body)).toEqual(data);
  });

  it("escapes the id attribute", () => {
    expect(jsonScript('"><script>alert(1)</script>', 1).value).not.toContain("<script>alert");
  });
});

describe("XSS: resubmit page", () => {
  it("escapes field names, values and the action attribute", () => {
    const page = renderResubmitPage({
      ...base,
      action: '/pay?a=1&b="><script>alert(1)</script>',
      fields: [
        ['n"><script>alert(1)</script>', 'v"onmouseover="alert(1)'],
        ["amount", "</form><form action=//evil>"],
      ],
    });
    expect(page).toContain('action="/pay?a=1&amp;b=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page).toContain('name="n&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page).toContain('value="v&quot;onmouseover=&quot;alert(1)"');
    expect(page).not.toContain("<script>alert");
    expect(openTags(page, "form")).toHaveLength(1);
    expect(page).toContain(">Continue</button>");
  });

  it("auto-submits with a constant nonce'd script even when a field is named submit", () => {
    const page = renderResubmitPage({ ...base, action: "/x", fields: [["submit", "yes"]] });
    const scripts = page.match(/<script[^>]*>[^<]*<\/script>/g) ?? [];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain("HTMLFormElement.prototype.submit.call");
    expect(scripts[0]).not.toContain("yes");
  });
});

describe("XSS: QR code image source", () => {
  const pending = {
    type: "totp",
    factorId: "f3",
    secret: "JBSWY3DPEHPK3PXP",
    otpauthUri: "otpauth://totp/Acme?secret=x",
  };

  it.each(["javascript:alert(1)", "https://evil.example/qr.png", "data:image/svg+xml;base64,PHN2Zz4="])(
    "does not render %s as an img src",
    (qrCode) => {
      const page = renderConsolePage(consolePage({ pending: { ...pending, qrCode } }));
      expect(openTags(page, "img")).toHaveLength(0);
      expect(page).toContain('data-secret="JBSWY3DPEHPK3PXP"');
    },
  );

  it("renders a PNG data URL, with alt text, and the secret grouped in fours", () => {
    const page = renderConsolePage(consolePage({ pending: { ...pending, qrCode: PNG } }));
    expect(page).toContain(`<img class="qr" src="${PNG}"`);
    expect(page).toContain('alt="QR code for your authenticator app"');
    expect(page).toMatch(/<code[^>]*id="enroll-secret"[^>]*>JBSW Y3DP EHPK 3PXP<\/code>/);
    expect(page).toContain('action="/stepup/console/add/totp/f3/confirm"');
  });
});

describe("CSP: only nonce'd style and script elements", () => {
  it("gives every <style> and executable <script> the page nonce", () => {
    const pages = [...pagesWith("x"), renderResubmitPage({ ...base, action: "/x", fields: [] })];
    for (const page of pages) {
      for (const tag of [...openTags(page, "style"), ...openTags(page, "script")]) {
        if (tag.includes('type="application/json"')) continue;
        expect(tag).toContain(`nonce="${NONCE}"`);
      }
      expect(openTags(page, "style")).toHaveLength(1);
      expect(page).not.toMatch(/<link\b|\ssrc="(?!data:)|\son[a-z]+=/i);
    }
  });

  it("renders no <script> at all on the no-JavaScript pages", () => {
    expect(openTags(renderChallengePage(challenge()), "script")).toHaveLength(0);
    expect(openTags(renderConsolePage(consolePage()), "script")).toHaveLength(0);
  });
});

describe("challenge page", () => {
  it("posts the code with autofill hints and a label tied to the input", () => {
    const page = renderChallengePage(challenge());
    const [form] = openTags(page, "form");
    expect(form).toContain('method="post" action="/stepup/challenge/ch_1"');
    const input = openTags(page, "input").find((t) => t.includes('name="code"')) ?? "";
    for (const attr of ['autocomplete="one-time-code"', 'inputmode="numeric"', 'maxlength="6"', "required"]) {
      expect(input).toContain(attr);
    }
    const id = /\sid="([^"]+)"/.exec(input)?.[1];
    expect(page).toContain(`<label for="${id}">`);
    expect(page).toContain('name="factor" value="totp"');
    expect(page).toContain('name="factorId" value="f1"');
    expect(page).toContain('name="csrf" value="csrf-1"');
    expect(page).not.toContain('role="alert"');
    expect(input).not.toContain("aria-invalid");
    expect(page.match(/<h1>/g)).toHaveLength(1);
  });

  it("announces an error with role=alert, attempts left, and marks the input invalid", () => {
    const page = renderChallengePage(challenge({ error: "That code is not valid.", attemptsRemaining: 1 }));
    const alertId = /role="alert" id="([^"]+)"/.exec(page)?.[1];
    expect(alertId).toBeDefined();
    expect(page).toContain("1 attempt remaining.");
    const input = openTags(page, "input").find((t) => t.includes('name="code"')) ?? "";
    expect(input).toContain('aria-invalid="true"');
    expect(input).toMatch(new RegExp(`aria-describedby="[^"]*\\b${alertId}\\b`));
    expect(page.indexOf('role="alert"')).toBeLessThan(page.indexOf("<form"));
  });

  it("with no factors, links to the console to set one up", () => {
    const page = renderChallengePage(challenge({ factors: [], cancelUrl: "/settings" }));
    expect(page).toContain('href="/stepup/console?returnTo=%2Faccount&amp;x=1"');
    expect(page).toContain("Set up two-step verification");
    expect(page).toContain('href="/settings"');
    expect(openTags(page, "form")).toHaveLength(0);
  });

  it("lists unknown factor types as unavailable instead of crashing", () => {
    const page = renderChallengePage(
      challenge({
        factors: [
          {
            id: "k1",
            type: "carrier-pigeon",
            name: "Coo",
            primary: true,
            title: "Pigeon",
            prompt: { kind: "coo" } as never,
          },
        ],
      }),
    );
    expect(page).toContain("not available on this page yet");
    expect(page).toContain("Pigeon");
    expect(openTags(page, "form")).toHaveLength(0);
  });

  it("offers several authenticator apps as a radio group, primary first and checked", () => {
    const page = renderChallengePage(
      challenge({
        factors: [
          offered({ id: "a", type: "totp", name: "Old phone", primary: false }),
          offered({ id: "b", type: "totp", name: "New phone", primary: true }),
          offered({ id: "k", type: "webauthn", name: "Key", primary: false }),
        ],
      }),
    );
    const radios = openTags(page, "input").filter((t) => t.includes('type="radio"'));
    expect(radios).toHaveLength(2);
    expect(radios[0]).toContain('value="b"');
    expect(radios[0]).toContain("checked");
    expect(page).toContain("Use a passkey or security key");
  });
});

describe("console page", () => {
  it("lists factors with dates, primary badge and per-factor forms", () => {
    const page = renderConsolePage(consolePage());
    expect(page).toContain("Authenticator app");
    expect(page).toContain('<time datetime="2025-01-12T10:00:00.000Z"');
    expect(page).toContain(">2025-03-02</time>");
    expect(page).toContain("Never");
    expect(page).toContain('action="/stepup/console/factors/f1/rename"');
    expect(page).toContain('action="/stepup/console/factors/f1/remove"');
    expect(page).not.toContain('action="/stepup/console/factors/f1/primary"');
    expect(page).toContain('action="/stepup/console/factors/f2/primary"');
    expect(page).toContain('action="/stepup/console/add/totp"');
    const forms = openTags(page, "form").length;
    expect(page.match(/name="csrf" value="csrf-1"/g)).toHaveLength(forms);
  });

  it("carries returnTo through the add and confirm forms", () => {
    const pending = { type: "totp", factorId: "f3", secret: "ABCD", otpauthUri: "otpauth://x", qrCode: PNG };
    const page = renderConsolePage(consolePage({ returnTo: "/account?tab=2", pending }));
    expect(page.match(/name="returnTo" value="\/account\?tab=2"/g)).toHaveLength(2);
    expect(page).toContain('href="/account?tab=2"');
    expect(page).toContain('placeholder="Authenticator app"');
    expect(page).toContain('autocomplete="one-time-code"');
  });
});
