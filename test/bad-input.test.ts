// Attack: fuzzing the step-up API with malformed, oversized and mistyped bodies, unknown or
// hostile ids, unknown routes and wrong methods, hoping for a 500, a leaked stack trace or secret,
// or a grant. Every answer must be a 4xx problem+json with a stable error code.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { corpusFixture, itLeftNoGrant, verifyPath } from "./support/corpus.js";
import { currentCode, enrollTotp, openChallenge, signUp, verify } from "./support/demo.js";

const c = corpusFixture();
const TWO_MB = 2 * 1024 * 1024;

describe("bad input gets a 4xx problem+json, never a 500 or a grant", () => {
  it("malformed, oversized and mistyped bodies on verify", async () => {
    const path = verifyPath(c.challengeId);
    c.problem(
      await c.agent.post(path).set("content-type", "application/json").send('{"factor":'),
      400,
      "invalid_input",
    );
    c.problem(
      await c.agent.post(path).set("content-type", "application/json").send('"just a string"'),
      400,
      "invalid_input",
    );
    c.problem(await c.agent.post(path).send([{ factor: "totp" }]), 400, "invalid_input");
    c.problem(
      await c.agent.post(path).send({ factor: "totp", code: "1".repeat(TWO_MB) }),
      413,
      "payload_too_large",
    );
    c.problem(
      await c.agent
        .post(path)
        .type("form")
        .send(`factor=totp&code=${"1".repeat(TWO_MB)}`),
      413,
      "payload_too_large",
    );
    c.problem(
      await c.agent.post(path).set("content-type", "text/plain").send("factor=totp&code=123456"),
      415,
      "unsupported_media_type",
    );
    for (const code of [
      123456,
      ["123456"],
      { code: "123456" },
      null,
      true,
      "1".repeat(10_000),
      "12345",
      "abcdef",
      "",
    ]) {
      const res = c.problem(await c.agent.post(path).send({ factor: "totp", code }), 400, "invalid_input");
      expect(res.field).toBe("code");
    }
    c.problem(await c.agent.post(path).send({ code: "123456" }), 400, "invalid_input");
    // Not a factor type of this demo (it has no passkeys without an origin), or not a type at all.
    for (const factor of ["voice", "webauthn", "__proto__", 1, null]) {
      c.problem(await c.agent.post(path).send({ factor, code: "123456" }), 400, "invalid_input");
    }
    // A type the demo offers but this user has not enrolled.
    c.problem(await c.agent.post(path).send({ factor: "sms", code: "123456" }), 404, "factor_not_found");
    c.problem(
      await c.agent.post(path).send({ factor: "totp", factorId: 7, code: "123456" }),
      400,
      "invalid_input",
    );
    c.problem(
      await c.agent.post(path).send({ factor: "totp", factorId: "nope", code: "123456" }),
      404,
      "factor_not_found",
    );
  });

  it("a 2 MB form to the challenge page is refused before it is read (a page: the browser posted the page's form)", async () => {
    const res = await c.agent
      .post(`/stepup/challenge/${c.challengeId}`)
      .type("form")
      .send(`csrf=x&code=${"9".repeat(TWO_MB)}`);
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.text).toContain("Form too large");
    expect(res.text).not.toMatch(/PayloadTooLargeError|at .*\.(js|ts):\d+/);
  });

  it("a 2 MB body to the API is a 413 payload_too_large problem+json", async () => {
    const res = await c.agent
      .post(`/stepup/api/challenges/${c.challengeId}/verify`)
      .type("form")
      .send(`factor=totp&code=${"9".repeat(TWO_MB)}`);
    c.problem(res, 413, "payload_too_large");
  });

  it("unknown, malformed and foreign ids; unknown routes; wrong methods", async () => {
    const code = await currentCode(c.secret);
    const random = randomBytes(16).toString("base64url");
    c.problem(await verify(c.agent, random, code), 404, "challenge_not_found");
    c.problem(await verify(c.agent, encodeURIComponent("../../etc"), code), 404, "challenge_not_found");
    c.problem(await verify(c.agent, encodeURIComponent("<script>"), code), 404, "challenge_not_found");
    c.problem(await verify(c.agent, "%E0%A4%A", code), 400, "invalid_input");
    c.problem(
      await c.agent.post(`/stepup/api/challenges/${random}/start`).send({ factor: "totp" }),
      404,
      "challenge_not_found",
    );

    // Another user's challenge id is unknown here (records are scoped by user).
    const other = c.demo.agent();
    await signUp(other);
    await enrollTotp(other);
    c.problem(await verify(c.agent, await openChallenge(other), code), 404, "challenge_not_found");

    c.problem(
      await c.agent.patch("/stepup/api/factors/nope-nope-nope").send({ name: "x" }),
      404,
      "factor_not_found",
    );
    c.problem(await c.agent.patch("/stepup/api/factors/nope").send({ primary: "yes" }), 400, "invalid_input");
    c.problem(
      await c.agent.patch("/stepup/api/factors/nope").send({ name: "x".repeat(65) }),
      400,
      "invalid_input",
    );
    // Removing needs a fresh step-up before the id is even looked at.
    c.problem(await c.agent.delete("/stepup/api/factors/nope-nope-nope"), 401, "step_up_required");
    c.problem(
      await c.agent.post("/stepup/api/factors/totp/nope/confirm").send({ code }),
      404,
      "enrollment_not_found",
    );
    c.problem(
      await c.agent.post("/stepup/api/challenges").send({ resource: "../x", action: "read" }),
      400,
      "invalid_input",
    );
    c.problem(
      await c.agent.post("/stepup/api/challenges").send({ resource: "data", action: { $ne: 1 } }),
      400,
      "invalid_input",
    );
    c.problem(await c.agent.get("/stepup/api/status?resource=&action="), 400, "invalid_input");

    c.problem(await c.agent.get("/stepup/api/nope"), 404, "not_found");
    c.problem(await c.agent.get("/stepup/api"), 404, "not_found");
    c.problem(await c.agent.post("/stepup/api/factors/totp/a/b/c").send({}), 404, "not_found");
    c.problem(await c.agent.get("/stepup/api/challenges"), 405, "method_not_allowed");
    c.problem(await c.agent.put("/stepup/api/status").send({}), 405, "method_not_allowed");
    c.problem(await c.agent.get(verifyPath(c.challengeId)), 405, "method_not_allowed");
  });

  it("unauthenticated calls get 401 unauthenticated", async () => {
    const anon = c.demo.agent();
    c.problem(await anon.get("/api/export"), 401, "unauthenticated");
    c.problem(await anon.post("/transfer").send({ amount: 1, to: "x" }), 401, "unauthenticated");
    c.problem(await anon.get("/stepup/api/factors"), 401, "unauthenticated");
    c.problem(
      await anon.post("/stepup/api/challenges").send({ resource: "data", action: "export" }),
      401,
      "unauthenticated",
    );
    c.problem(
      await anon.post(verifyPath(c.challengeId)).send({ factor: "totp", code: "123456" }),
      401,
      "unauthenticated",
    );
    c.problem(await anon.get("/stepup/api/status?resource=data&action=export"), 401, "unauthenticated");
  });

  itLeftNoGrant(c, 45);
});
