import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

const origin = "http://localhost:3000";
const user = { id: "alice", email: "alice@example.com" };

function setup() {
  const http = testHttp();
  let cookie = "";
  const send = async (path: string, form?: Record<string, string>) => {
    const init: RequestInit = { headers: { accept: "text/html", origin, cookie } };
    if (form) {
      init.method = "POST";
      init.body = new URLSearchParams(form).toString();
      (init.headers as Record<string, string>)["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await http.handle(new Request(`${origin}${path}`, init), { user });
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(";")[0] ?? "";
    return { status: res.status, html: await res.text() };
  };
  return { http, send };
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
const secretOf = (html: string) => /data-secret="([A-Z2-7]+)"/.exec(html)?.[1] ?? "";
const factorIdOf = (html: string) => /\/console\/add\/totp\/([A-Za-z0-9_-]+)\/confirm/.exec(html)?.[1] ?? "";
const codeAt = (secret: string, offsetSteps = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * 30 });

describe("console", () => {
  it("a console form without the CSRF token is refused (403) and enrolls nothing", async () => {
    const { send } = setup();
    const res = await send("/stepup/console/add/totp", { csrf: "forged" });
    expect(res.status).toBe(403);
    expect(res.html).not.toContain("data-secret");
  });

  it("first factor: enroll without step-up; a mistyped code keeps the QR; adding a second needs a fresh step-up", async () => {
    const { send } = setup();
    const page = await send("/stepup/console");
    const csrf = csrfOf(page.html);
    const started = await send("/stepup/console/add/totp", { csrf });
    expect(started.status).toBe(200);
    const secret = secretOf(started.html);
    const factorId = factorIdOf(started.html);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    const wrong = (await codeAt(secret)) === "000000" ? "111111" : "000000";
    const retry = await send(`/stepup/console/add/totp/${factorId}/confirm`, { csrf, code: wrong });
    expect(retry.status).toBe(400);
    expect(secretOf(retry.html)).toBe(secret);

    const done = await send(`/stepup/console/add/totp/${factorId}/confirm`, {
      csrf,
      code: await codeAt(secret, -1),
    });
    expect(done.status).toBe(200);
    expect(done.html).toContain("Authenticator app added.");

    // With a factor enrolled, a first-factor session alone cannot add another (attacker's) one.
    const second = await send("/stepup/console/add/totp", { csrf });
    expect(second.status).toBe(401);
    expect(second.html).toContain('autocomplete="one-time-code"');
    expect(second.html).not.toContain("data-secret");

    // Remove is guarded too.
    const remove = await send(`/stepup/console/factors/${factorId}/remove`, { csrf });
    expect(remove.status).toBe(401);

    // Step up through the inline page: the original form is re-submitted with its fields.
    const challengeId = /\/stepup\/challenge\/([A-Za-z0-9_-]+)/.exec(remove.html)?.[1] ?? "";
    const verified = await send(`/stepup/challenge/${challengeId}`, {
      csrf: csrfOf(remove.html),
      factor: "totp",
      factorId,
      code: await codeAt(secret),
    });
    expect(verified.status).toBe(200);
    expect(verified.html).toContain(`action="/stepup/console/factors/${factorId}/remove"`);
    const removed = await send(`/stepup/console/factors/${factorId}/remove`, { csrf });
    expect(removed.status).toBe(200);
    expect(removed.html).toContain("Factor removed.");
  });
});
