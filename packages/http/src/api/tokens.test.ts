import { generateSigningKey, memoryStore } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { browser } from "../../test/browser-client.js";
import { bearerRequest, decodeToken, ORIGIN, steppedUp, tokenHttp } from "../../test/tokens.js";

const alice = { id: "alice" };

const jwks = (http: ReturnType<typeof tokenHttp>["http"], method = "GET") =>
  http.handle(new Request(`${ORIGIN}/stepup/.well-known/jwks.json`, { method }), { user: null });

describe("token API: a token proves a fresh step-up, or is not given", () => {
  it("a signed-in user who has not stepped up asks for a token: 401 step_up_required with a challenge, and a token once it is answered", async () => {
    const { http, clock } = tokenHttp();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    const refused = await b.api(alice, "POST", "token", { resource: "data", action: "export" });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: "step_up_required", resource: "data", action: "export" });
    expect(refused.body.challengeId).toEqual(expect.any(String));
    expect(refused.body.factors).toMatchObject([{ type: "totp" }]);

    const { generate } = await import("otplib");
    const code = await generate({ secret, epoch: Math.floor(clock.now() / 1000) });
    const verified = await b.api(alice, "POST", `challenges/${refused.body.challengeId}/verify`, {
      factor: "totp",
      code,
    });
    expect(verified.status).toBe(200);
    const issued = await b.api(alice, "POST", "token", { resource: "data", action: "export" });
    expect(issued.status).toBe(200);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const { header, payload } = decodeToken(String(issued.body.token));
    expect(header).toMatchObject({ alg: "ES256", typ: "stepup+jwt" });
    expect(payload).toMatchObject({ sub: "alice", scope: "data:export", iss: ORIGIN, acr: "mfa" });
    expect(issued.body.expiresAt).toBe(new Date((payload.exp as number) * 1000).toISOString());
  });

  it("a stolen token cannot renew itself: a bearer with no step-up cookie gets a challenge, never a new token", async () => {
    const { http, clock } = tokenHttp();
    const { token } = await steppedUp(http, clock, alice);
    const res = await http.handle(
      new Request(`${ORIGIN}/stepup/api/token`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ resource: "data", action: "export" }),
      }),
      { user: alice },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "step_up_required" });
  });

  it("a user the policy waives (OPTIONAL, no factor) asks for a token: still 401 step_up_required, never a token for no step-up", async () => {
    const { http } = tokenHttp({ policy: { requirement: "OPTIONAL" } });
    const guard = http.guard({ resource: "data", action: "export" });
    expect((await guard(new Request(`${ORIGIN}/export`), { user: alice })).kind).toBe("pass");
    const res = await browser(http).api(alice, "POST", "token", { resource: "data", action: "export" });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: "step_up_required", enrollUrl: "/stepup/console" });
    expect(res.headers.getSetCookie()).toHaveLength(1);
  });

  it("a client names a transaction rule: refused, since its step-up is bound to one request's details", async () => {
    const { http, clock } = tokenHttp();
    http.guard(
      { resource: "payment", action: "transfer", match: "transaction" },
      { transaction: () => ({ amount: 1 }) },
    );
    const b = browser(http);
    await b.enrollTotp(alice, clock);
    const res = await b.api(alice, "POST", "token", { resource: "payment", action: "transfer" });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_input");
  });

  it("tokens off: both routes are 404 not_found, and nothing is minted", async () => {
    const { http, clock } = tokenHttp({ tokens: false });
    const b = browser(http);
    await b.enrollTotp(alice, clock);
    const res = await b.api(alice, "POST", "token", { resource: "data", action: "export" });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_found");
    const keys = await jwks(http);
    expect(keys.status).toBe(404);
  });
});

describe("JWKS: public keys only, for offline checks", () => {
  it("an attacker reads the key set hoping for a private part: no `d`, only the published kids", async () => {
    const { http, clock } = tokenHttp();
    const { token } = await steppedUp(http, clock, alice);
    const res = await jwks(http);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    const text = await res.text();
    expect(text).not.toMatch(/"d"/);
    const set = JSON.parse(text) as { keys: Record<string, unknown>[] };
    expect(set.keys).toHaveLength(1);
    expect(Object.keys(set.keys[0] ?? {}).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
    expect(set.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(set.keys[0]?.kid).toBe(decodeToken(token).header.kid);
    const head = await jwks(http, "HEAD");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("rotation: the new key signs, the old one stays listed, and a live token it signed still passes", async () => {
    const store = memoryStore();
    const oldKey = generateSigningKey();
    const before = tokenHttp({ store, keys: [oldKey] });
    const { token } = await steppedUp(before.http, before.clock, alice);
    const after = tokenHttp({ store, keys: [generateSigningKey(), oldKey], clock: before.clock });
    const set = (await (await jwks(after.http)).json()) as { keys: { kid: string }[] };
    expect(set.keys).toHaveLength(2);
    const oldKid = decodeToken(token).header.kid;
    expect(set.keys[1]?.kid).toBe(oldKid);
    expect(set.keys[0]?.kid).not.toBe(oldKid);
    const guard = after.http.guard({ resource: "data", action: "export", maxAge: 600 });
    const outcome = await guard(bearerRequest(token), { user: alice });
    expect(outcome.kind).toBe("pass");
  });
});
