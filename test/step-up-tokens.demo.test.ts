// Step-up tokens across the packages, on the Express demo (in process, over HTTP): a script steps
// up once, takes a token, and calls the guarded /api/export with that bearer alone, no cookie. The
// attacks: a token minted without a fresh step-up, a token replayed after logout, a token tried on
// another route, a private key leaking through the JWKS. Every /stepup response is checked against
// the OpenAPI document the demo serves; /api/export against the `Guard*` components.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentCode, type Demo, expectProblem } from "./support/demo.js";
import { type CheckedDemos, checkedDemos, enrolled, openChallenge, verify } from "./support/openapi-demo.js";

let t: CheckedDemos;
let demo: Demo;

beforeAll(async () => {
  t = await checkedDemos();
  demo = t.demo;
});

afterAll(async () => {
  await t?.close();
});

const RULE = { resource: "data", action: "export" };

/** A signed-up user with TOTP who has stepped up for data:export, and a token for it. */
async function withToken() {
  const user = await enrolled(demo);
  const refused = t.c(await user.agent.post("/stepup/api/token").send(RULE));
  const problem = expectProblem(refused, 401, "step_up_required");
  const ok = t.c(
    await verify(user.agent, String(problem.challengeId), {
      factor: "totp",
      code: await currentCode(user.secret),
    }),
  );
  expect(ok.status, ok.text).toBe(200);
  const issued = t.c(await user.agent.post("/stepup/api/token").send(RULE));
  expect(issued.status, issued.text).toBe(200);
  return { ...user, token: String(issued.body.token), expiresAt: String(issued.body.expiresAt) };
}

describe("step-up tokens on the demo", () => {
  it("a script steps up, takes a token, and exports with only the bearer: no cookie at all", async () => {
    const { token, email } = await withToken();
    // A fresh client: no demo_session, no stepup cookie.
    const res = await request(demo.origin).get("/api/export").set("authorization", `Bearer ${token}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ user: email, records: [] });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("alice's token on bob's session, or a bearer that is no step-up token: 401 with RFC 9470's header and acr_values", async () => {
    const { token } = await withToken();
    const bob = await enrolled(demo);
    for (const bearer of [token, "not-a-token"]) {
      const res = t.g(await bob.agent.get("/api/export").set("authorization", `Bearer ${bearer}`));
      expectProblem(res, 401, "step_up_required");
      expect(res.headers["www-authenticate"]).toMatch(/max_age=\d+, acr_values="mfa"$/);
    }
    // No cookie and no step-up token: the demo does not know who this is.
    const anonymous = await request(demo.origin)
      .get("/api/export")
      .set("authorization", "Bearer not-a-token");
    expectProblem(anonymous, 401, "unauthenticated");
  });

  it("after logout the token is refused, even with no cookie to say so", async () => {
    const { agent, token } = await withToken();
    const out = await agent.post("/logout").send({});
    expect(out.status).toBe(200);
    const res = await request(demo.origin).get("/api/export").set("authorization", `Bearer ${token}`);
    expectProblem(res, 401, "unauthenticated");
  });

  it("the JWKS is public, cacheable and has no private part; it names the token's kid", async () => {
    const { token } = await withToken();
    const res = t.c(await request(demo.origin).get("/stepup/.well-known/jwks.json"));
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.text).not.toContain('"d"');
    const kid = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).kid;
    expect(JSON.parse(res.text).keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  });

  it("a challenge opened through the API and answered also buys a token (the rule is the server's)", async () => {
    const user = await enrolled(demo);
    const opened = t.c(await openChallenge(user.agent));
    const ok = await verify(user.agent, String(opened.body.challengeId), {
      factor: "totp",
      code: await currentCode(user.secret),
    });
    expect(ok.status, ok.text).toBe(200);
    const issued = t.c(await user.agent.post("/stepup/api/token").send(RULE));
    expect(issued.status, issued.text).toBe(200);
    expect(Date.parse(String(issued.body.expiresAt))).toBeGreaterThan(Date.now());
  });
});
