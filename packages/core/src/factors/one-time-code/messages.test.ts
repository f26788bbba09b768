import { describe, expect, it } from "vitest";
import { codeEngine, openFor } from "../../../test/code-factors.js";
import { alice } from "../../../test/helpers.js";
import { defaultCodeEmail } from "./messages.js";

describe("code messages", () => {
  it("name the app, the code, what it is for and the expiry, in text and HTML", async () => {
    const t = codeEngine({ engine: { rules: { "account:delete": { label: "delete your account" } } } });
    await t.engine.factors.enrollStart(alice, "email", {}, undefined);
    expect(t.lastMail().text).toMatch(
      /Your Test verification code is \d{6}\.\n\nUse it to confirm this email address\. It expires in 5 minutes\./,
    );
    const c = await openFor(t);
    expect(c.label).toBe("delete your account");
  });

  it("HTML escapes the app's and the request's words (never markup from them)", () => {
    const mail = defaultCodeEmail({
      appName: "<b>Acme</b>",
      code: "123456",
      purpose: {
        kind: "step-up",
        resource: "r",
        action: "a",
        description: 'Send 5 to <img src=x onerror="alert(1)">',
      },
      expiresInMinutes: 5,
      expiresAt: new Date(0),
    });
    expect(mail.html).not.toContain("<img");
    expect(mail.html).not.toContain("<b>Acme");
    expect(mail.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(mail.text).toContain("Use it to a r: Send 5 to <img");
  });

  it("can be replaced (translation) through `messages`", async () => {
    const t = codeEngine({
      email: {
        messages: {
          code: (m) => ({
            subject: "Votre code",
            text: `Votre code ${m.appName} : ${m.code}`,
            html: `<p>${m.code}</p>`,
          }),
        },
      },
    });
    await t.engine.factors.enrollStart(alice, "email", {}, undefined);
    expect(t.lastMail()).toMatchObject({
      subject: "Votre code",
      text: expect.stringMatching(/^Votre code Test : \d{6}$/),
    });
  });

  it("email() rejects bad options at construction, naming them", async () => {
    const { email } = await import("./email.js");
    expect(() => email({})).toThrow(/exactly one of `send`, `transport` or `smtp`/);
    expect(() => email({ smtp: "smtp://localhost:25" })).toThrow(/`from`/);
    expect(() => email({ smtp: "http://x", from: "a@b.c" })).toThrow(/`smtp`/);
    expect(() => email({ send: async () => {}, codeTtl: 601 })).toThrow(/codeTtl/);
    expect(() => email({ send: async () => {}, sendTimeout: 0 })).toThrow(/sendTimeout/);
    expect(() => email({ send: async () => {}, limits: { perUser: { max: 0, windowSeconds: 60 } } })).toThrow(
      /limits.perUser/,
    );
  });
});
