// New recovery codes are shown once, after a redirect: a reload must not re-post the form (which
// would issue yet another set, or fail), and the codes must not wait anywhere in clear for that
// redirect. They travel sealed, bound to the user, in a cookie the console reads once and deletes.
import { recoveryCodes, totp } from "@stepup/core";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

const origin = "http://localhost:3000";
const alice = { id: "alice", email: "alice@example.com" };
const CODE = /[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}/g;

function setup() {
  const http = testHttp({ factors: [totp(), recoveryCodes()] });
  // A browser's cookie jar, by name: a deleting Set-Cookie (Max-Age=0) drops the cookie.
  const jar = new Map<string, string>();
  const send = async (
    path: string,
    init: { form?: Record<string, string>; cookie?: string; user?: typeof alice } = {},
  ) => {
    const cookie = init.cookie ?? [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const headers: Record<string, string> = { accept: "text/html", origin, cookie };
    const request = init.form
      ? new Request(`${origin}${path}`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(init.form).toString(),
        })
      : new Request(`${origin}${path}`, { headers });
    const res = await http.handle(request, { user: init.user ?? alice });
    if (init.cookie === undefined) {
      for (const c of res.headers.getSetCookie()) {
        const [pair = ""] = c.split(";");
        const [name = "", value = ""] = pair.split("=", 2) as [string, string];
        if (/Max-Age=0/.test(c)) jar.delete(name);
        else jar.set(name, pair.slice(name.length + 1) || value);
      }
    }
    return { status: res.status, headers: res.headers, html: await res.text() };
  };
  return { http, send, jar };
}

const cookieOf = (headers: Headers) =>
  headers.getSetCookie().find((c) => c.startsWith("stepup_codes=")) ?? "";
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

async function enroll(send: ReturnType<typeof setup>["send"]) {
  const csrf = csrfOf((await send("/stepup/console")).html);
  const started = await send("/stepup/console/add/totp", { form: { csrf, returnTo: "/account" } });
  const secret = /data-secret="([A-Z2-7]+)"/.exec(started.html)?.[1] ?? "";
  const factorId = /\/console\/add\/totp\/([\w-]+)\/confirm/.exec(started.html)?.[1] ?? "";
  const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
  const done = await send(`/stepup/console/add/totp/${factorId}/confirm`, {
    form: { csrf, code, returnTo: "/account" },
  });
  return Object.assign(done, { secret, factorId, csrf });
}

describe("recovery codes: post-redirect-get, shown once", () => {
  it("the confirming POST redirects (303) and carries the codes sealed, never in clear", async () => {
    const { send } = setup();
    const done = await enroll(send);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/stepup/console?returnTo=%2Faccount");
    expect(done.html).toBe("");
    const setCookie = cookieOf(done.headers);
    expect(setCookie).toMatch(/^stepup_codes=Fe26\.2\*/);
    expect(setCookie).toContain("Path=/stepup/console; HttpOnly; SameSite=Strict; Max-Age=300");
    expect(setCookie).not.toMatch(CODE);
  });

  it("the next GET shows them (and deletes the cookie); a reload shows them no more", async () => {
    const { send } = setup();
    await enroll(send);
    const shown = await send("/stepup/console?returnTo=%2Faccount");
    expect(shown.status).toBe(200);
    expect(shown.headers.get("cache-control")).toBe("no-store");
    const codes =
      /<ol class="codes" id="recovery-codes">(.*?)<\/ol>/s.exec(shown.html)?.[1]?.match(CODE) ?? [];
    expect(codes).toHaveLength(10);
    expect(shown.html).toContain("Authenticator app added.");
    expect(shown.html).toContain('href="/stepup/console?returnTo=%2Faccount">I have saved these codes</a>');
    expect(cookieOf(shown.headers)).toMatch(/^stepup_codes=; Path=\/stepup\/console;.*Max-Age=0/);
    // The jar dropped the cookie, as a browser does: a reload (a GET, nothing re-posted) has none.
    const reload = await send("/stepup/console?returnTo=%2Faccount");
    expect(reload.html).not.toContain('id="recovery-codes"');
    expect(reload.html).toContain("10 unused codes.");
  });

  it("regenerating (after its step-up) redirects the same way; the old codes are cancelled", async () => {
    const { send, jar } = setup();
    const { secret, factorId, csrf } = await enroll(send);
    const first = (await send("/stepup/console")).html.match(CODE)?.slice(0, 10) ?? [];
    expect(jar.has("stepup_codes")).toBe(false);
    // stepup's own rule: new codes need a fresh step-up (the inline page), then the form re-posts.
    const asked = await send("/stepup/console/recovery-codes", { form: { csrf } });
    expect(asked.status).toBe(401);
    const challengeId = /\/stepup\/challenge\/([\w-]+)/.exec(asked.html)?.[1] ?? "";
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    const verified = await send(`/stepup/challenge/${challengeId}`, {
      form: { csrf: csrfOf(asked.html), factor: "totp", factorId, code },
    });
    expect(verified.status).toBe(200);
    const regenerated = await send("/stepup/console/recovery-codes", { form: { csrf } });
    expect(regenerated.status).toBe(303);
    const page = await send("/stepup/console");
    expect(page.html).toContain("New recovery codes issued; the old ones no longer work.");
    const fresh = page.html.match(CODE)?.slice(0, 10) ?? [];
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toEqual(first);
  });

  it("another user, a tampered seal or a foreign cookie shows nothing, and is deleted all the same", async () => {
    const { send } = setup();
    const cookie = cookieOf((await enroll(send)).headers).split(";")[0] ?? "";
    const bob = { id: "bob", email: "bob@example.com" };
    for (const [who, jar] of [
      [bob, cookie],
      [alice, `${cookie.slice(0, -4)}AAAA`],
      [alice, "stepup_codes=not-a-seal"],
    ] as const) {
      const page = await send("/stepup/console", { cookie: jar, user: who });
      expect(page.html).not.toContain('id="recovery-codes"');
      expect(page.html).not.toMatch(CODE);
      expect(cookieOf(page.headers)).toContain("Max-Age=0");
    }
  });
});
