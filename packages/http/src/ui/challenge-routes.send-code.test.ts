// A send-first factor on the challenge page without JavaScript: after "Send code" the page shows the
// code form and when a resend is allowed (the page script counts it down); a send refused as too
// soon or too many is a 429 with Retry-After, one that bounced a 503, both on the page; and every
// text a plugin declares or a destination it reports is escaped.
import { describe, expect, it } from "vitest";
import { deskPin } from "../../test/desk-pin.js";
import { testHttp } from "../../test/helpers.js";
import { csrfOf, formsOf, openTags, pageClient } from "../../test/page-client.js";
import { offered } from "../../test/page-factors.js";
import { renderChallengePage } from "../pages/index.js";

const user = { id: "alice" };

async function challenged(pin = deskPin()) {
  const http = testHttp({ factors: [pin.plugin] });
  const client = pageClient(http, user);
  const csrf = csrfOf((await client.get("/stepup/console")).html);
  const started = await client.post("/stepup/console/add/pin", { csrf, desk: "42" });
  const factorId = /\/stepup\/console\/add\/pin\/([\w-]+)\/confirm/.exec(started.html)?.[1] ?? "";
  await client.post(`/stepup/console/add/pin/${factorId}/confirm`, {
    csrf,
    code: pin.outbox.at(-1)?.code ?? "",
  });
  const { id, page } = await client.guarded();
  const token = csrfOf(page.html);
  const url = `/stepup/challenge/${id}`;
  const send = () => client.post(url, { csrf: token, factor: "pin", factorId, intent: "send" });
  const verify = (code: string) => client.post(url, { csrf: token, factor: "pin", factorId, code });
  return { pin, client, url, page, send, verify };
}

const codeInputOf = (html: string) => openTags(html, "input").find((t) => t.includes('name="code"'));

describe("challenge page: a code sent first, without JavaScript", () => {
  it("after Send: the code form (one-time-code) and a resend form marked with its wait", async () => {
    const { send } = await challenged();
    const sent = await send();
    expect(sent.status).toBe(200);
    expect(codeInputOf(sent.html)).toContain('autocomplete="one-time-code"');
    const resend = formsOf(sent.html).find((f) => f.includes(">Resend code</button>")) ?? "";
    expect(resend).toContain('data-stepup-resend="30"');
    expect(resend).toContain('name="intent" value="send"');
    expect(resend).toContain("You can ask for a new code in 30 seconds.");
    expect(openTags(resend, "button")[0]).not.toContain("disabled"); // enabled without the script
    // The page script is loaded to count it down.
    expect(sent.html).toContain('src="/stepup/assets/stepup.js"');
  });

  it("the page shown again (a reload, a wrong code) keeps the code form of a code already sent", async () => {
    const { send, verify, client, url } = await challenged();
    await send();
    expect(codeInputOf((await client.get(url)).html)).toBeDefined();
    const wrong = await verify("99999");
    expect(wrong.status).toBe(400);
    expect(codeInputOf(wrong.html)).toContain('aria-invalid="true"');
    expect(wrong.html).toContain(">Resend code</button>");
  });

  it("an early resend is a 429 with Retry-After, the message on the page and the code form kept", async () => {
    const { send, pin } = await challenged();
    await send();
    const early = await send();
    expect(early.status).toBe(429);
    expect(early.retryAfter).toBe("30");
    expect(early.html).toMatch(/role="alert"[\s\S]*You can ask for a new code in 30 seconds\./);
    expect(codeInputOf(early.html)).not.toContain("aria-invalid"); // the code was not wrong
    expect(pin.outbox).toHaveLength(2); // the enrolment's and the first send's
  });

  it("RATE_LIMITED: 429 with Retry-After when the plugin gives one, without it otherwise", async () => {
    const { send, pin } = await challenged();
    pin.failWith = { code: "RATE_LIMITED", retryAfter: 120 };
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).toBe("120");
    expect(limited.html).toContain('role="alert"');
    expect(formsOf(limited.html).some((f) => f.includes('name="intent" value="send"'))).toBe(true);
    pin.failWith = { code: "RATE_LIMITED" };
    const bare = await send();
    expect(bare.status).toBe(429);
    expect(bare.retryAfter).toBeNull();
  });

  it("DELIVERY_FAILED: 503 with the error on the page and the Send form to try again", async () => {
    const { send, pin } = await challenged();
    pin.failWith = { code: "DELIVERY_FAILED" };
    const failed = await send();
    expect(failed.status).toBe(503);
    expect(failed.html).toMatch(/role="alert"[^>]*>[\s\S]*The desk phone is off\./);
    expect(failed.html).toContain(">Send code</button>");
    expect(codeInputOf(failed.html)).toBeUndefined();
  });
});

describe("challenge page: groups of factor types", () => {
  const base = {
    appName: "Acme",
    nonce: "n",
    basePath: "/stepup",
    challengeId: "ch_1",
    resource: "admin",
    action: "read",
    csrfToken: "c",
    consoleUrl: "/stepup/console",
  };
  const pin = (id: string, primary: boolean, destination: string) => ({
    id,
    type: "pin",
    name: `Desk ${id}`,
    primary,
    title: "Desk PIN",
    prompt: { kind: "code" as const, label: "Desk PIN", digits: 4, send: true },
    destination,
  });

  it("the primary's type is the main form; another type is folded in 'Use <title> instead'", () => {
    const html = renderChallengePage({
      ...base,
      factors: [
        pin("p1", false, "desk 1"),
        offered({ id: "t1", type: "totp", name: "Phone", primary: true }),
      ],
    });
    expect(html).toContain("Confirm with your authenticator app to continue.");
    expect(html.indexOf('name="factor" value="totp"')).toBeLessThan(html.indexOf("<details"));
    expect(html).toMatch(/<details class="other-method">\s*<summary>Use Desk PIN instead<\/summary>/);
  });

  it("several factors of a send-first type: one Send button each, naming where it goes", () => {
    const html = renderChallengePage({
      ...base,
      factors: [pin("p1", true, "desk 1"), pin("p2", false, "desk 2")],
    });
    const sends = formsOf(html).filter((f) => f.includes('name="intent" value="send"'));
    expect(sends).toHaveLength(2);
    expect(sends[1]).toContain('name="factorId" value="p2"');
    expect(sends[1]).toContain(">Send code to desk 2</button>");
  });
});

describe("XSS: what a plugin declares and the destination it reports", () => {
  const HOSTILE = '<img src=x onerror="alert(1)">';

  it("escapes a hostile title, label, hint and destination through the real routes", async () => {
    const pin = deskPin({
      title: HOSTILE,
      prompt: { kind: "code", label: HOSTILE, hint: `${HOSTILE} {destination}`, digits: 4, send: true },
    });
    pin.plugin = { ...pin.plugin, describe: () => ({ destination: HOSTILE }) };
    const { page, send } = await challenged(pin);
    const sent = await send();
    for (const html of [page.html, sent.html]) {
      expect(html).not.toContain("<img src=x");
      expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    }
    expect(sent.html).toContain('<label for="code">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</label>');
  });
});
