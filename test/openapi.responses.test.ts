// Drift: the OpenAPI document says one thing, the server answers another. Every response below is a
// real one from the Express demo (in-process, over HTTP), checked against the document served at
// /stepup/openapi.json: the operation, the status, the required headers, the content type and the
// body (Ajv, JSON Schema 2020-12). A status, path or content type the document does not list fails.
import { memoryStore } from "@stepup/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  currentCode,
  type Demo,
  enrollTotp,
  expectProblem,
  logIn,
  PASSWORD,
  signUp,
  uniqueEmail,
} from "./support/demo.js";
import {
  type CheckedDemos,
  checkedDemos,
  enrolled,
  failing,
  openChallenge as open,
  verify,
} from "./support/openapi-demo.js";
import { awayFromStepBoundary, codeFor, STEP_MS, wrongCode } from "./support/totp.js";

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
    const { agent, secret } = await enrolled(demo);
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
    const { agent, email, secret } = await enrolled(demo);
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

  it("trusted devices: verify with rememberDevice, list (this browser marked), revoke, 404 for an unknown id", async () => {
    const { agent, secret } = await enrolled(demo);
    expect(c(await agent.get("/stepup/api/devices")).body).toEqual({ devices: [] });
    const id = String(c(await open(agent)).body.challengeId);
    const notBoolean = { factor: "totp", code: await currentCode(secret), rememberDevice: "yes" };
    expectProblem(c(await verify(agent, id, notBoolean)), 400, "invalid_input");
    const ok = c(
      await verify(agent, id, { factor: "totp", code: await currentCode(secret), rememberDevice: true }),
    );
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.trustedDevice).toBe(true);
    const listed = c(await agent.get("/stepup/api/devices"));
    const [device] = listed.body.devices as { id: string; current?: boolean }[];
    expect(device?.current).toBe(true);
    expectProblem(c(await agent.delete("/stepup/api/devices/AAAAAAAAAAAAAAAA")), 404, "not_found");
    expect(c(await agent.delete(`/stepup/api/devices/${device?.id}`)).status).toBe(204);
    expect(c(await agent.get("/stepup/api/devices")).body).toEqual({ devices: [] });
  });

  it("user_locked: the consecutive-failure cap answers 429 on verify", async () => {
    const capped = await t.start({ limits: { lockout: { maxFailures: 2, delayAfter: 2 } } });
    const { agent, secret } = await enrolled(capped);
    const id = String((await open(agent)).body.challengeId);
    const bad = await wrongCode(secret);
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 400, "invalid_code");
    expectProblem(c(await verify(agent, id, { factor: "totp", code: bad })), 429, "user_locked");
  });

  it("bodies: 413 over 64 KiB, 415 for another content type, 403 from another site", async () => {
    const { agent } = await enrolled(demo);
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

  it("the admin API: 401, 403, 400, 401 step_up_required, then status, audit, reset, revoke and unlock", async () => {
    const admin = uniqueEmail("admin");
    const app = await t.start({ admins: [admin] });
    const target = app.agent();
    const signed = await target.post("/signup").send({ email: uniqueEmail("target"), password: PASSWORD });
    await enrollTotp(target);
    const path = `/stepup/admin/users/${String(signed.body.id)}`;
    expectProblem(c(await app.agent().get(path)), 401, "unauthenticated");
    expectProblem(c(await target.get(path)), 403, "forbidden");
    const boss = app.agent();
    await signUp(boss, admin);
    const { secret } = await enrollTotp(boss);
    expectProblem(c(await boss.get("/stepup/admin/users/a%0Ab")), 400, "invalid_input");
    const gate = expectProblem(c(await boss.get(path)), 401, "step_up_required");
    const ok = c(
      await verify(boss, String(gate.challengeId), { factor: "totp", code: await currentCode(secret) }),
    );
    expect(ok.status, ok.text).toBe(200);
    expect(c(await boss.get(path)).body).toMatchObject({ enabled: true, factorCount: 1 });
    expect(c(await boss.get(`${path}/audit?limit=200`)).body).toMatchObject({ chain: { ok: true } });
    expectProblem(c(await boss.get(`${path}/audit?limit=500`)), 400, "invalid_input");
    expectProblem(
      c(await boss.post(`${path}/reset`).set("origin", "https://evil.example").send({})),
      403,
      "origin_mismatch",
    );
    expectProblem(
      c(await boss.post(`${path}/reset`).type("form").send("a=b")),
      415,
      "unsupported_media_type",
    );
    for (const action of ["unlock", "revoke", "reset"])
      expect(c(await boss.post(`${path}/${action}`).send({})).status).toBe(200);
    expect(c(await boss.get(path)).body).toMatchObject({ enabled: false, factorCount: 0 });
  });

  it("store down: 503 store_unavailable from the API and from the guard", async () => {
    let down = false;
    const store = failing(memoryStore(), () => down);
    const app = await t.start({ store });
    const { agent } = await enrolled(app);
    down = true;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expectProblem(c(await agent.get("/stepup/api/factors")), 503, "store_unavailable");
    expectProblem(g(await agent.get("/api/export")), 503, "store_unavailable");
    expect(logged).toHaveBeenCalled(); // the cause goes to the server log, never to the client
    logged.mockRestore();
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
    expect(() => t.checker.check(res(418, "/stepup/api/factors"))).toThrow(/status 418 is not documented/);
    expect(() => t.checker.check(res(200, "/stepup/api/nope"))).toThrow(/not a documented operation/);
    expect(() => t.checker.check(res(200, "/stepup/api/factors", "text/plain"))).toThrow(/not documented/);
    expect(() => t.checker.check(res(200, "/stepup/api/factors"))).toThrow(/does not match/);
    expect(() => t.checker.checkGuard(res(404, "/api/export"))).toThrow(/not a documented guard response/);
  });

  it("saw a real response of every JSON API operation", () => {
    const api = new Set(t.checker.seen.map((s) => s.split(" ")[0]));
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
      "listDevices",
      "revokeDevice",
      "getOpenApi",
      "adminGetUser",
      "adminGetUserAudit",
      "adminResetUser",
      "adminRevokeUser",
      "adminUnlockUser",
    ])
      expect(api, id).toContain(id);
    expect(t.checker.seen.length).toBeGreaterThanOrEqual(45);
    console.info(
      `openapi (JSON API): ${t.checker.seen.length} real responses checked (${new Set(t.checker.seen).size} operation/status pairs)`,
    );
  });
});
