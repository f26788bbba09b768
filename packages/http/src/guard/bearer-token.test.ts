import { createPublicKey } from "node:crypto";
import { generateSigningKey } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { browser, totpAt } from "../../test/browser-client.js";
import { bearerRequest, decodeToken, forge, ORIGIN, steppedUp, tokenHttp } from "../../test/tokens.js";

const alice = { id: "alice" };
const bob = { id: "bob" };

/** The guard's answer to a bearer-only request, rendered: what the client sees. */
async function refusedWith(
  http: ReturnType<typeof tokenHttp>["http"],
  guard: Awaited<ReturnType<typeof steppedUp>>["guard"],
  token: string,
  user = alice,
) {
  const request = bearerRequest(token);
  const outcome = await guard(request, { user });
  if (outcome.kind === "pass") throw new Error("the bearer was accepted");
  return http.render(request, outcome);
}

describe("bearer step-up tokens on a guarded route", () => {
  it("a service holding alice's token calls her guarded route with no cookie: it runs, with the token's step-up", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const outcome = await guard(bearerRequest(token), { user: alice });
    if (outcome.kind !== "pass") throw new Error(`expected a pass, got ${outcome.kind}`);
    const { payload } = decodeToken(token);
    expect(outcome.stepUp).toMatchObject({
      verifiedAt: new Date((payload.auth_time as number) * 1000).toISOString(),
      level: "mfa",
      factor: null,
      resource: "data",
      action: "export",
    });
    expect(outcome.stepUp.amr).toContain("otp");
  });

  it("bob replays alice's token on his own session: refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const res = await refusedWith(http, guard, token, bob);
    expect(res.status).toBe(401);
  });

  it("a token for one action is tried on another: refused", async () => {
    const { http, clock } = tokenHttp();
    const { token } = await steppedUp(http, clock, alice);
    const other = http.guard({ resource: "account", action: "delete", maxAge: 600 });
    const res = await refusedWith(http, other, token);
    expect(res.status).toBe(401);
  });

  it("a leaked token is replayed after it expired: refused", async () => {
    const { http, clock } = tokenHttp({ ttl: 60 });
    const { guard, token } = await steppedUp(http, clock, alice);
    expect((await guard(bearerRequest(token), { user: alice })).kind).toBe("pass");
    clock.advance(61_000);
    expect((await refusedWith(http, guard, token)).status).toBe(401);
  });

  it("an attacker flips one byte of the signature: refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const at = token.length - 5;
    const flipped = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
    expect((await refusedWith(http, guard, flipped)).status).toBe(401);
  });

  it("an attacker rewrites the claims (another sub) and keeps the signature: refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const [h, , s] = token.split(".");
    const { payload } = decodeToken(token);
    const body = Buffer.from(JSON.stringify({ ...payload, sub: "bob" })).toString("base64url");
    expect((await refusedWith(http, guard, `${h}.${body}.${s}`, bob)).status).toBe(401);
  });

  it("an attacker sends `alg: none` with alice's claims: refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const { header, payload } = decodeToken(token);
    const none = forge({ ...header, alg: "none" }, payload);
    expect((await refusedWith(http, guard, none)).status).toBe(401);
  });

  it("algorithm confusion: HS256 keyed with the published public key's bytes is refused", async () => {
    const { http, clock, keys } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const { header, payload } = decodeToken(token);
    const publicPem = createPublicKey(keys[0] ?? "")
      .export({ format: "pem", type: "spki" })
      .toString();
    const jwk = JSON.stringify(createPublicKey(keys[0] ?? "").export({ format: "jwk" }));
    for (const secret of [publicPem, jwk]) {
      const hs = forge({ ...header, alg: "HS256" }, payload, { hmac: secret });
      expect((await refusedWith(http, guard, hs)).status).toBe(401);
    }
  });

  it("a token signed by a key we never published (unknown kid, or our kid on another key): refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    const { header, payload } = decodeToken(token);
    const pem = generateSigningKey();
    const unknown = forge({ ...header, kid: "attacker-key" }, payload, { pem });
    const stolenKid = forge(header, payload, { pem });
    expect((await refusedWith(http, guard, unknown)).status).toBe(401);
    expect((await refusedWith(http, guard, stolenKid)).status).toBe(401);
  });

  it("after revokeUser (a stolen laptop), the user's live tokens are refused", async () => {
    const { http, clock } = tokenHttp();
    const { guard, token } = await steppedUp(http, clock, alice);
    clock.advance(1000);
    await http.engine.revokeUser(alice.id);
    expect((await refusedWith(http, guard, token)).status).toBe(401);
  });

  it("after logout, a token minted in that session is refused", async () => {
    const { http, clock } = tokenHttp();
    const { b, guard, token } = await steppedUp(http, clock, alice);
    const cookie = [...b.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    await http.clear(new Request(`${ORIGIN}/logout`, { method: "POST", headers: { cookie } }), alice.id);
    expect((await refusedWith(http, guard, token)).status).toBe(401);
  });

  it("a payment's token is replayed for a second payment of the same details: it works once", async () => {
    const { http, clock } = tokenHttp();
    const guard = http.guard(
      { resource: "payment", action: "transfer", match: "transaction", maxAge: 600 },
      { transaction: () => ({ amount: 100, to: "carol" }) },
    );
    const txn = "digest-of-100-to-carol";
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    const outcome = await b.visit(guard, alice, { txn });
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const verified = await b.api(alice, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
      factor: "totp",
      code: await totpAt(secret, clock),
    });
    const rule = http.engine.rules.lookup("payment", "transfer");
    const minted = await http.engine.tokens.mint(alice, String(verified.body.sid), rule, txn);
    if (!("token" in minted)) throw new Error("no token");
    const pay = () => guard(bearerRequest(minted.token, "/transfer", "POST"), { user: alice }, { txn });
    expect((await pay()).kind).toBe("pass");
    expect((await pay()).kind).not.toBe("pass");
  });

  it("an OAuth access token (not a step-up token) gets the RFC 9470 challenge with the rule's acr_values", async () => {
    const { http, clock } = tokenHttp();
    const { guard } = await steppedUp(http, clock, alice);
    const res = await refusedWith(http, guard, "an-oauth-access-token");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A fresh step-up is required", max_age=600, acr_values="mfa"',
    );
    expect(await res.json()).toMatchObject({ error: "step_up_required", challengeId: expect.any(String) });
  });

  it("tokens off: a bearer is not even read, and a token from elsewhere opens nothing", async () => {
    const on = tokenHttp();
    const { token } = await steppedUp(on.http, on.clock, alice);
    const off = tokenHttp({ tokens: false, keys: on.keys });
    const guard = off.http.guard({ resource: "data", action: "export", maxAge: 600 });
    let read = false;
    const request = bearerRequest(token);
    const spy = {
      method: "GET",
      url: request.url,
      headers: {
        get: (name: string) => {
          if (name === "authorization") read = true;
          return request.headers.get(name);
        },
      },
    };
    const outcome = await guard(spy, { user: alice });
    expect(outcome.kind).toBe("step-up-required");
    expect(read).toBe(false); // only rendering the 401 looks at it (for the RFC 9470 header)
  });

  it("a policy hook that blocks the action blocks a bearer too: the token proves the step-up, not the permission", async () => {
    let verdict: "CHALLENGE" | "BLOCK" = "CHALLENGE";
    const { http, clock } = tokenHttp({ policy: { decide: () => verdict } });
    const { guard, token } = await steppedUp(http, clock, alice);
    expect((await guard(bearerRequest(token), { user: alice })).kind).toBe("pass");
    verdict = "BLOCK";
    expect((await guard(bearerRequest(token), { user: alice })).kind).toBe("blocked");
  });
});
