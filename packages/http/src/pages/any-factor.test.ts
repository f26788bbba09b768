// Every factor is a plugin, end to end: a factor type no page knows ("pin", declared in the test
// alone) is added in the console from its declared fields, shown on the challenge page with its
// declared prompt, and a code is sent and verified through the no-JavaScript forms. No page code
// names it: the pages read `ui` and nothing else.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deskPin } from "../../test/desk-pin.js";
import { testHttp } from "../../test/helpers.js";
import { csrfOf, formsOf, openTags, pageClient } from "../../test/page-client.js";

const user = { id: "alice", email: "alice@example.com" };

/** A user with a desk PIN, added through the console's forms. */
async function enrolled() {
  const pin = deskPin();
  const http = testHttp({ factors: [pin.plugin] });
  const client = pageClient(http, user);
  const console = await client.get("/stepup/console");
  const csrf = csrfOf(console.html);
  const started = await client.post("/stepup/console/add/pin", { csrf, desk: "42" });
  const factorId = /\/stepup\/console\/add\/pin\/([\w-]+)\/confirm/.exec(started.html)?.[1] ?? "";
  const code = pin.outbox.at(-1)?.code ?? "";
  const done = await client.post(`/stepup/console/add/pin/${factorId}/confirm`, { csrf, code });
  return { pin, http, client, console, started, done, factorId };
}

describe("a factor type declared only by its plugin", () => {
  it("the console offers its Add button with its fields, and enrols it by the sent code", async () => {
    const { console, started, done, pin } = await enrolled();
    const add = formsOf(console.html).find((f) => f.includes('action="/stepup/console/add/pin"')) ?? "";
    expect(console.html).toContain("Add desk PIN</summary>");
    expect(add).toMatch(/<label for="([\w-]+)">Desk number<\/label>/);
    expect(openTags(add, "input").find((t) => t.includes('name="desk"'))).toContain("required");

    expect(started.status).toBe(200);
    expect(pin.outbox).toEqual([{ desk: "42", code: expect.stringMatching(/^[0-9]{4}$/) }]);
    expect(started.html).toContain('<h2 id="enroll-title">Set up your desk PIN</h2>');
    expect(started.html).toContain("We sent a code to <strong>desk 42</strong>.");
    const input = openTags(started.html, "input").find((t) => t.includes('name="code"')) ?? "";
    expect(input).toContain('maxlength="4"');
    expect(input).toContain('inputmode="numeric"');
    expect(started.html).toContain('<label for="enroll-code">Desk PIN</label>');

    expect(done.status).toBe(200);
    expect(done.html).toContain("Desk PIN added.");
    expect(done.html).toMatch(/<dt>Type<\/dt><dd>Desk PIN<\/dd>/);
  });

  it("a wrong first code keeps the setup step on screen (enrollResume)", async () => {
    const pin = deskPin();
    const client = pageClient(testHttp({ factors: [pin.plugin] }), user);
    const csrf = csrfOf((await client.get("/stepup/console")).html);
    const started = await client.post("/stepup/console/add/pin", { csrf, desk: "7" });
    const factorId = /\/stepup\/console\/add\/pin\/([\w-]+)\/confirm/.exec(started.html)?.[1] ?? "";
    const wrong = pin.outbox.at(-1)?.code === "0000" ? "1111" : "0000";
    const retry = await client.post(`/stepup/console/add/pin/${factorId}/confirm`, { csrf, code: wrong });
    expect(retry.status).toBe(400);
    expect(retry.html).toContain(`action="/stepup/console/add/pin/${factorId}/confirm"`);
    expect(retry.html).toContain("We sent a code to <strong>desk 7</strong>.");
    expect(openTags(retry.html, "input").find((t) => t.includes('name="code"'))).toContain("aria-invalid");
  });

  it("an enrolment that cannot start shows the console again with the error (400, 429 + Retry-After, 503)", async () => {
    const pin = deskPin();
    const client = pageClient(testHttp({ factors: [pin.plugin] }), user);
    const csrf = csrfOf((await client.get("/stepup/console")).html);
    const add = () => client.post("/stepup/console/add/pin", { csrf, desk: "42" });
    const bad = await client.post("/stepup/console/add/pin", { csrf, desk: "not a desk" });
    expect([bad.status, bad.html.includes('role="alert"')]).toEqual([400, true]);
    pin.failWith = { code: "RATE_LIMITED", retryAfter: 60 };
    const limited = await add();
    expect([limited.status, limited.retryAfter]).toEqual([429, "60"]);
    pin.failWith = { code: "DELIVERY_FAILED" };
    const failed = await add();
    expect(failed.status).toBe(503);
    expect(failed.html).toContain("The desk phone is off.");
    expect(failed.html).toContain("Add desk PIN</summary>");
  });

  it("the challenge page shows it with a Send form; sending then verifying without JavaScript grants", async () => {
    const { client, pin, factorId } = await enrolled();
    const { id, page } = await client.guarded();
    expect(page.status).toBe(401);
    expect(page.html).toContain("Confirm with your desk PIN to continue.");
    const [send] = formsOf(page.html);
    expect(send).toContain(`action="/stepup/challenge/${id}"`);
    for (const field of [
      'name="factor" value="pin"',
      `name="factorId" value="${factorId}"`,
      'name="intent" value="send"',
    ])
      expect(send).toContain(field);
    expect(send).toContain("We'll send a code to <strong>desk 42</strong>.");
    expect(send).not.toContain('name="code"');

    const csrf = csrfOf(page.html);
    const sent = await client.post(`/stepup/challenge/${id}`, {
      csrf,
      factor: "pin",
      factorId,
      intent: "send",
    });
    expect(sent.status).toBe(200);
    expect(sent.html).toMatch(/role="status"[^>]*>.*We sent a code to desk 42\. It expires in 10 minutes\./s);
    const code = pin.outbox.at(-1)?.code ?? "";
    const granted = await client.post(`/stepup/challenge/${id}`, { csrf, factor: "pin", factorId, code });
    expect(granted.status).toBe(303);
    expect(granted.location).toBe("/admin");
    expect((await client.guarded()).page.status).toBe(200); // stepped up: the guard passes
  });

  it("no page code names the factor", () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), "..");
    const pageFiles = [
      ...readdirSync(join(src, "pages")).map((f) => join(src, "pages", f)),
      ...readdirSync(join(src, "ui")).map((f) => join(src, "ui", f)),
    ].filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    for (const file of pageFiles) expect(readFileSync(file, "utf8"), file).not.toMatch(/\bpin\b|desk/i);
  });
});
