// Drift: the OpenAPI document says one thing, the server answers another. Every response below is a
// real one from the Express demo (in-process, over HTTP), checked against the document served at
// /stepup/openapi.json: the operation, the status, the required headers, the content type and the
// body (Ajv, JSON Schema 2020-12). A status, path or content type the document does not list fails.
import { memoryStore, recoveryCodes, type Store, totp } from "@stepup/core";
import { openApiDocument } from "@stepup/http";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type Agent,
  currentCode,
  type Demo,
  enrollTotp,
  expectProblem,
  logIn,
  type Res,
  signUp,
  startDemo,
} from "./support/demo.js";
import { type OpenApiChecker, openApiChecker } from "./support/openapi-check.js";
import { awayFromStepBoundary, codeFor, STEP_MS, wrongCode } from "./support/totp.js";

const HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";
const demos: Demo[] = [];
let demo: Demo;
let checker: OpenApiChecker;
/** Checks a response of /stepup against the document and returns it. */
let c: (res: Res) => Res;
/** Checks a guarded demo route's response against the `Guard*` components and returns it. */
let g: (res: Res) => Res;

async function start(options: Parameters<typeof startDemo>[0] = {}): Promise<Demo> {
  const started = await startDemo(options);
  demos.push(started);
  return started;
}

beforeAll(async () => {
  demo = await start();
  const served = await request(demo.origin).get("/stepup/openapi.json");
  expect(served.status, served.text).toBe(200);
  // What the demo serves is the document of its configuration.
  expect(served.body).toEqual(openApiDocument({ basePath: "/stepup", factors: [totp(), recoveryCodes()] }));
  checker = await openApiChecker(served.body);
  c = (res) => {
    checker.check(res);
    return res;
  };
  g = (res) => {
    checker.checkGuard(res);
    return res;
  };
  c(served);
});

afterAll(async () => {
  await Promise.all(demos.map((d) => d.close()));
});

/** A signed-up user with TOTP enrolled (their recovery codes too) on `app`. */
async function enrolled(app: Demo = demo) {
  const agent = app.agent();
  const email = await signUp(agent);
  const { factorId, secret, recoveryCodes } = await enrollTotp(agent);
  return { agent, email, factorId, secret, recoveryCodes };
}

const open = (agent: Agent, resource = "data", action = "export") =>
  agent.post("/stepup/api/challenges").send({ resource, action });
const verify = (agent: Agent, id: string, body: object) =>
  agent.post(`/stepup/api/challenges/${id}/verify`).send(body);

describe("the JSON API answers as documented", () => {
  it("factors: list, enroll (start, confirm and its failures), rename, remove behind a step-up", async () => {
    const agent = demo.agent();
    expectProblem(c(await agent.get("/stepup/api/factors")), 401, "unauthenticated");
    const email = await signUp(agent);
    expect(c(await agent.get("/stepup/api/factors")).body).toEqual({
      factors: [],
      recoveryCodesRemaining: 0,
    });

    await awayFromStepBoundary();
    const started = c(await agent.post("/stepup/api/factors/totp").send({}));
    expect(started.status, started.text).toBe(201);
    const { factorId, secret } = started.body as { factorId: string; secret: string };
    const confirm = `/stepup/api/factors/totp/${factorId}/confirm`;
    expectProblem(c(await agent.post(confirm).send({ code: "12" })), 400, "invalid_input");
    expectProblem(c(await agent.post(confirm).send({ code: await wrongCode(secret) })), 400, "invalid_code");
    expectProblem(
      c(await agent.post("/stepup/api/factors/totp/AAAAAAAAAAAA/confirm").send({ code: "123456" })),
      404,
      "enrollment_not_found",
    );
    const confirmed = c(
      await agent.post(confirm).send({ code: await codeFor(secret, Date.now() - STEP_MS) }),
    );
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);

    // A second factor needs a step-up with the first: the API answers like the guard.
    const second = expectProblem(
      c(await agent.post("/stepup/api/factors/totp").send({})),
      401,
      "step_up_required",
    );
    expect(second).toMatchObject({ resource: "stepup", action: "factor.add" });

    const patched = c(await agent.patch(`/stepup/api/factors/${factorId}`).send({ name: "Work phone" }));
    expect(patched.body.factor).toMatchObject({ id: factorId, name: "Work phone", primary: true });
    expectProblem(
      c(await agent.patch(`/stepup/api/factors/${factorId}`).send({ primary: false })),
      400,
      "invalid_input",
    );
    expectProblem(
      c(await agent.patch("/stepup/api/factors/AAAAAAAAAAAA").send({ name: "x" })),
      404,
      "factor_not_found",
    );

    // Removing needs a fresh step-up: another browser of the same user has none.
    const other = demo.agent();
    await logIn(other, email);
    const removal = expectProblem(
      c(await other.delete(`/stepup/api/factors/${factorId}`)),
      401,
      "step_up_required",
    );
    expect(removal).toMatchObject({ resource: "stepup", action: "factor.remove" });
    c(
      await other
        .post(`/stepup/api/challenges/${String(removal.challengeId)}/start`)
        .send({ factor: "totp" }),
    );
    const ok = c(
      await verify(other, String(removal.challengeId), { factor: "totp", code: await currentCode(secret) }),
    );
    expect(ok.status, ok.text).toBe(200);
    expect(c(await other.delete(`/stepup/api/factors/${factorId}`)).status).toBe(204);
    expectProblem(c(await other.delete(`/stepup/api/factors/${factorId}`)), 404, "factor_not_found");
    expect(c(await agent.get("/stepup/api/factors")).body).toEqual({
      factors: [],
      recoveryCodesRemaining: 0,
    });
  });

  it("recovery codes: 401 step_up_required, then 201 after a step-up; status before and after", async () => {
    const { agent, secret } = await enrolled();
    const fresh = "/stepup/api/status?resource=stepup&action=recovery.regenerate";
    expect(c(await agent.get(fresh)).body).toEqual({ fresh: false, verifiedAt: null, expiresAt: null });
    expectProblem(c(await agent.get("/stepup/api/status?resource=data")), 400, "invalid_input");
    const needed = expectProblem(
      c(await agent.post("/stepup/api/recovery-codes").send({})),
      401,
      "step_up_required",
    );
    const id = String(needed.challengeId);
    expect(c(await agent.post(`/stepup/api/challenges/${id}/start`).send({ factor: "totp" })).body).toEqual(
      {},
    );
    const ok = c(await verify(agent, id, { factor: "totp", code: await currentCode(secret) }));
    expect(ok.body).toMatchObject({ success: true, resource: "stepup", action: "recovery.regenerate" });
    const issued = c(await agent.post("/stepup/api/recovery-codes").send({}));
    expect(issued.status, issued.text).toBe(201);
    expect(issued.body.recoveryCodes).toHaveLength(10);
    expect(c(await agent.get(fresh)).body).toMatchObject({ fresh: true });
  });

  it("challenges: open, start and verify, and every way verify fails", async () => {
    const { agent, email, secret } = await enrolled();
    expectProblem(c(await open(agent, "not a name")), 400, "invalid_input");
    const opened = c(await open(agent));
    expect(opened.status, opened.text).toBe(201);
    const id = String(opened.body.challengeId);
    expectProblem(c(await agent.post(`/stepup/api/challenges/${id}/start`).send({})), 400, "invalid_input");
    expectProblem(c(await verify(agent, id, { code: "123456" })), 400, "invalid_input"); // no `factor`
    expectProblem(c(await verify(agent, id, { factor: "totp", code: "abc" })), 400, "invalid_input");
    expectProblem(
      c(await verify(agent, "A".repeat(22), { factor: "totp", code: "123456" })),
      404,
      "challenge_not_found",
    );
    // Another browser of the same user has another step-up session.
    const other = demo.agent();
    await logIn(other, email);
    await open(other);
    expectProblem(
      c(await verify(other, id, { factor: "totp", code: "123456" })),
      403,
      "challenge_session_mismatch",
    );

    const bad = await wrongCode(secret);
    for (let left = 4; left >= 0; left--) {
      const body = expectProblem(
        c(await verify(agent, id, { factor: "totp", code: bad })),
        400,
        "invalid_code",
      );
      expect(body).toMatchObject({ success: false, attemptsRemaining: left });
    }
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 429, "challenge_exhausted");
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 404, "challenge_not_found");

    const next = String(c(await open(agent)).body.challengeId);
    const ok = c(await verify(agent, next, { factor: "totp", code: await currentCode(secret) }));
    expect(ok.status, ok.text).toBe(200);
  });

  it("user_locked: the consecutive-failure cap answers 429 on verify", async () => {
    const capped = await start({ limits: { lockout: { maxFailures: 2, delayAfter: 2 } } });
    const { agent, secret } = await enrolled(capped);
    const id = String((await open(agent)).body.challengeId);
    const bad = await wrongCode(secret);
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 400, "invalid_code");
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 429, "user_locked");
  });

  it("bodies: 413 over 64 KiB, 415 for another content type, 403 from another site", async () => {
    const { agent } = await enrolled();
    const big = { resource: "data", action: "export", pad: "x".repeat(70 * 1024) };
    expectProblem(c(await agent.post("/stepup/api/challenges").send(big)), 413, "payload_too_large");
    expectProblem(
      c(await agent.post("/stepup/api/challenges").set("content-type", "text/plain").send("resource=data")),
      415,
      "unsupported_media_type",
    );
    expectProblem(
      c(await agent.post("/stepup/api/challenges").set("origin", "https://evil.example").send({})),
      403,
      "origin_mismatch",
    );
  });

  it("store down: 503 store_unavailable from the API and from the guard", async () => {
    let down = false;
    const store = failing(memoryStore(), () => down);
    const app = await start({ store });
    const { agent } = await enrolled(app);
    down = true;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expectProblem(c(await agent.get("/stepup/api/factors")), 503, "store_unavailable");
    expectProblem(g(await agent.get("/api/export")), 503, "store_unavailable");
    expect(logged).toHaveBeenCalled(); // the cause goes to the server log, never to the client
    logged.mockRestore();
  });
});

describe("the guard in front of the demo's routes answers with the Guard* components", () => {
  it("401 (problem+json, bearer, page), 400 for bad details, 403 from another site, 413 for a form too large to keep", async () => {
    const signedOut = demo.agent();
    expectProblem(g(await signedOut.get("/api/export")), 401, "unauthenticated");
    const { agent } = await enrolled();
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
    const throttled = await start({ limits: { perFactor: { max: 2, windowSeconds: 900 } } });
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
    const { agent, secret, factorId } = await enrolled();
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
    expect(c(await form("recovery-codes", {})).status).toBe(200); // still fresh from the step-up
    expect(c(await demo.agent().get("/stepup/console").set("accept", HTML)).status).toBe(401);
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

describe("the checker itself", () => {
  it("fails a status, a path or a content type the document does not list", () => {
    const res = (status: number, path: string, type = "application/json") => ({
      status,
      headers: { "content-type": type },
      text: "{}",
      request: { method: "GET", url: path },
    });
    expect(() => checker.check(res(418, "/stepup/api/factors"))).toThrow(/status 418 is not documented/);
    expect(() => checker.check(res(200, "/stepup/api/nope"))).toThrow(/not a documented operation/);
    expect(() => checker.check(res(200, "/stepup/api/factors", "text/plain"))).toThrow(/not documented/);
    expect(() => checker.check(res(200, "/stepup/api/factors"))).toThrow(/does not match/);
    expect(() => checker.checkGuard(res(404, "/api/export"))).toThrow(/not a documented guard response/);
  });

  it("saw a real response of every JSON API operation", () => {
    const api = new Set(checker.seen.map((s) => s.split(" ")[0]));
    for (const id of [
      "listFactors",
      "startTotpEnrollment",
      "confirmTotpEnrollment",
      "updateFactor",
      "removeFactor",
      "openChallenge",
      "startChallenge",
      "verifyChallenge",
      "getStatus",
      "regenerateRecoveryCodes",
      "getOpenApi",
    ])
      expect(api, id).toContain(id);
    expect(checker.seen.length).toBeGreaterThanOrEqual(70);
    console.info(
      `openapi: ${checker.seen.length} real responses checked (${new Set(checker.seen).size} operation/status pairs)`,
    );
  });
});

/** `store` with every call failing while `down()` says so (a Redis outage, as the engine sees it). */
function failing(store: Store, down: () => boolean): Store {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) {
    wrapped[key] =
      typeof value === "function"
        ? (...args: unknown[]) =>
            down() ? Promise.reject(new Error("store down")) : value.apply(store, args)
        : value;
  }
  return wrapped as unknown as Store;
}
