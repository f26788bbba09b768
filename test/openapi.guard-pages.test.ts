// Drift, continued: the guard in front of the demo's own routes answers with the document's
// `Guard*` components, and the pages and static routes under /stepup answer as documented (status,
// headers, content type). Real responses of the Express demo, as in openapi.responses.test.ts.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentCode, type Demo, expectProblem } from "./support/demo.js";
import {
  type CheckedDemos,
  checkedDemos,
  enrolled,
  HTML,
  openChallenge as open,
  verify,
} from "./support/openapi-demo.js";
import { wrongCode } from "./support/totp.js";

let t: CheckedDemos;
let demo: Demo;
let c: CheckedDemos["c"];
let g: CheckedDemos["g"];

beforeAll(async () => {
  t = await checkedDemos();
  ({ demo, c, g } = t);
});

afterAll(async () => {
  await t?.close();
});

describe("the guard in front of the demo's routes answers with the Guard* components", () => {
  it("401 (problem+json, bearer, page), 400 for bad details, 403 from another site, 413 for a form too large to keep", async () => {
    const signedOut = demo.agent();
    expectProblem(g(await signedOut.get("/api/export")), 401, "unauthenticated");
    const { agent } = await enrolled(demo);
    const problem = expectProblem(g(await agent.get("/api/export")), 401, "step_up_required");
    expect(problem.challengeUrl).toBe(`/stepup/challenge/${String(problem.challengeId)}`);
    const bearer = g(await agent.get("/api/export").set("authorization", "Bearer x"));
    expect(bearer.headers["www-authenticate"]).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(g(await agent.get("/admin").set("accept", HTML)).headers["content-type"]).toMatch(/^text\/html/);
    const transfer = expectProblem(
      g(await agent.post("/transfer").send({ amount: 5, to: "bob" })),
      401,
      "step_up_required",
    );
    expect(transfer.description).toBe("Send 5 to bob");
    expectProblem(g(await agent.post("/transfer").send({ amount: "1e2", to: "bob" })), 400, "invalid_input");
    expectProblem(
      g(await agent.post("/transfer").set("origin", "https://evil.example").send({ amount: 5, to: "bob" })),
      403,
      "origin_mismatch",
    );
    const form = { confirm: "yes", note: "x".repeat(20 * 1024) };
    expectProblem(g(await agent.post("/account/delete").type("form").send(form)), 413, "payload_too_large");
  });

  it("429 once every factor of the rule is throttled (TOTP and recovery codes alike)", async () => {
    const throttled = await t.start({ limits: { perFactor: { max: 2, windowSeconds: 900 } } });
    const { agent, secret } = await enrolled(throttled);
    const id = String((await open(agent)).body.challengeId);
    const bad = await wrongCode(secret);
    for (let i = 0; i < 2; i++)
      expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 400, "invalid_code");
    const tooMany = expectProblem(
      c(await verify(agent, id, { factor: "totp", code: bad })),
      429,
      "too_many_attempts",
    );
    expect(tooMany.retryAfter).toBeGreaterThan(0);
    // Recovery codes are the way out, until they are throttled too.
    const next = String((await open(agent)).body.challengeId);
    for (let i = 0; i < 2; i++)
      expectProblem(
        c(await verify(agent, next, { factor: "recovery", code: "AAAA-AAAA-AAAA-AAAA" })),
        400,
        "invalid_code",
      );
    const locked = expectProblem(g(await agent.get("/api/export")), 429, "too_many_attempts");
    expect(locked.retryAfter).toBeGreaterThan(0);
    expect(g(await agent.get("/admin").set("accept", HTML)).status).toBe(429);
  });
});

describe("the pages and the static routes answer as documented", () => {
  it("challenge page: show, wrong code, stale form, success; console: show and its forms", async () => {
    const { agent, secret, factorId } = await enrolled(demo);
    const problem = expectProblem(await agent.get("/api/export"), 401, "step_up_required");
    const url = String(problem.challengeUrl);
    const page = c(await agent.get(url).set("accept", HTML));
    expect(page.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
    const post = (fields: Record<string, string>) =>
      agent.post(url).type("form").set("accept", HTML).send(fields);
    expect(c(await post({ csrf, factor: "totp", factorId, code: await wrongCode(secret) })).status).toBe(400);
    expect(c(await post({ csrf: "stale", factor: "totp", factorId, code: "123456" })).status).toBe(403);
    const done = c(await post({ csrf, factor: "totp", factorId, code: await currentCode(secret) }));
    expect(done.status, done.text).toBe(303);
    expect(c(await agent.get(url).set("accept", HTML)).status).toBe(404); // used up
    expect(c(await agent.get(`/stepup/challenge/${"A".repeat(22)}`).set("accept", HTML)).status).toBe(404);

    const consolePage = c(await agent.get("/stepup/console").set("accept", HTML));
    const token = /name="csrf" value="([^"]+)"/.exec(consolePage.text)?.[1] ?? "";
    const form = (path: string, fields: Record<string, string>) =>
      agent
        .post(`/stepup/console/${path}`)
        .type("form")
        .set("accept", HTML)
        .send({ csrf: token, ...fields });
    expect(c(await form(`factors/${factorId}/rename`, { name: "Phone" })).status).toBe(200);
    expect(c(await form(`factors/${factorId}/rename`, { name: "" })).status).toBe(400);
    expect(c(await form(`factors/${factorId}/primary`, {})).status).toBe(200);
    expect(c(await form("factors/AAAAAAAAAAAA/remove", {})).status).toBe(404);
    // Trusted devices: revoke one (an unknown id is a 404 console), forget all; no step-up either way.
    expect(c(await form("devices/AAAAAAAAAAAAAAAA/revoke", {})).status).toBe(404);
    expect(c(await form("devices/revoke-all", {})).status).toBe(200);
    // Still fresh from the step-up: new codes, shown once on the console after a redirect (PRG).
    expect(c(await form("recovery-codes", {})).status).toBe(303);
    // Signed out: the demo has a `signInUrl`, so a browser is sent to its login, and back after it.
    const signedOut = c(await demo.agent().get("/stepup/console").set("accept", HTML));
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.location).toBe("/?returnTo=%2Fstepup%2Fconsole");
  });

  it("the browser bundle: 200, 304 with its ETag, 404 for another name", async () => {
    const asset = c(await request(demo.origin).get("/stepup/assets/stepup.js"));
    expect(asset.status).toBe(200);
    const etag = String(asset.headers.etag);
    expect(
      c(await request(demo.origin).get("/stepup/assets/stepup.js").set("if-none-match", etag)).status,
    ).toBe(304);
    expect(c(await request(demo.origin).head("/stepup/assets/stepup.js")).status).toBe(200);
    expect(c(await request(demo.origin).get("/stepup/assets/nope.js")).status).toBe(404);
  });
});

describe("what this file checked", () => {
  it("counts the real responses it checked against the document", () => {
    expect(t.checker.seen.length).toBeGreaterThanOrEqual(25);
    console.info(`openapi (guard, pages, static): ${t.checker.seen.length} real responses checked`);
  });
});
