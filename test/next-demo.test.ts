// The Next.js demo (examples/next), built with `next build` and run with `next start`: the same HTTP
// contract as the Express demo (its passkey-only routes included), the proxy.ts bypass
// (CVE-2025-29927's x-middleware-subrequest) and forged Server Action calls.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, uniqueEmail } from "./support/demo.js";
import { actionValue, type NextDemo, serverActionId, startNextDemo } from "./support/next.js";
import { Browser } from "./support/process.js";
import { rawRequest } from "./support/raw-http.js";
import { awayFromStepBoundary, codeFor, STEP_MS } from "./support/totp.js";

let demo: NextDemo;
let origin = "";

beforeAll(async () => {
  // REQUIRED: these tests ask a user without a factor, too (the demo's default, OPTIONAL, lets them pass).
  demo = await startNextDemo({ STEPUP_POLICY: "REQUIRED" });
  origin = demo.origin;
}, 60_000);
afterAll(async () => {
  await demo?.stop();
});

async function signedIn(): Promise<Browser> {
  const b = new Browser();
  const res = await b.post(origin, "/signup", { email: uniqueEmail("next"), password: PASSWORD });
  expect(res.status, res.text).toBe(201);
  return b;
}

/** Enrolls TOTP with the previous step's code, so the current one stays unused for the step-up. */
async function enrollTotp(b: Browser): Promise<string> {
  await awayFromStepBoundary();
  const started = await b.post(origin, "/stepup/api/factors/totp");
  expect(started.status, started.text).toBe(201);
  const { factorId, secret } = started.json as { factorId: string; secret: string };
  const code = await codeFor(secret, Date.now() - STEP_MS);
  const confirmed = await b.post(origin, `/stepup/api/factors/totp/${factorId}/confirm`, { code });
  expect(confirmed.status, confirmed.text).toBe(200);
  return secret;
}

function callAction(b: Browser, headers: Record<string, string | undefined>) {
  const h: Record<string, string> = {
    "next-action": serverActionId("deleteAccount"),
    accept: "text/x-component",
    "content-type": "text/plain;charset=UTF-8",
  };
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
  return fetch(`${origin}/`, {
    method: "POST",
    redirect: "manual",
    headers: { ...h, ...(b.jar.size > 0 ? { cookie: b.cookieHeader() } : {}) },
    body: "[]",
  }).then(async (res) => {
    // The guard may start a step-up session: the action sets its cookie like any response.
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const i = pair.indexOf("=");
      b.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return { status: res.status, text: await res.text() };
  });
}

describe("examples/next: the Express demo's HTTP contract", () => {
  it("GET /api/export: 401 step_up_required, then TOTP enroll + verify, then 200 JSON", async () => {
    const b = await signedIn();
    const first = await b.get(origin, "/api/export");
    expect(first.status).toBe(401);
    expect(first.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(first.json).toMatchObject({ error: "step_up_required", resource: "data", action: "export" });

    const secret = await enrollTotp(b);
    const challenge = await b.get(origin, "/api/export");
    expect(challenge.status).toBe(401);
    const challengeId = String(challenge.json.challengeId);
    const verified = await b.post(origin, `/stepup/api/challenges/${challengeId}/verify`, {
      factor: "totp",
      code: await codeFor(secret, Date.now()),
    });
    expect(verified.status, verified.text).toBe(200);
    const after = await b.get(origin, "/api/export");
    expect(after.status, after.text).toBe(200);
    expect(after.json).toMatchObject({ records: [] });

    // The demo's rules are sudo mode (match: "session"), as in the Express demo: one step-up counts.
    const del = await b.post(origin, "/account/delete", {});
    expect(del.status, del.text).toBe(200);
    expect(del.json).toMatchObject({ deleted: true });
  });

  it("a script with only alice's step-up token exports her data (no cookie); the token opens nothing else", async () => {
    const b = await signedIn();
    const secret = await enrollTotp(b);
    const refused = await b.post(origin, "/stepup/api/token", { resource: "data", action: "export" });
    expect(refused.status, refused.text).toBe(401);
    expect(refused.json).toMatchObject({ error: "step_up_required" });
    const verified = await b.post(
      origin,
      `/stepup/api/challenges/${String(refused.json.challengeId)}/verify`,
      {
        factor: "totp",
        code: await codeFor(secret, Date.now()),
      },
    );
    expect(verified.status, verified.text).toBe(200);
    const issued = await b.post(origin, "/stepup/api/token", { resource: "data", action: "export" });
    expect(issued.status, issued.text).toBe(200);
    const bearer = { authorization: `Bearer ${String(issued.json.token)}` };
    const script = new Browser();
    const exported = await script.request(origin, "GET", "/api/export", undefined, bearer);
    expect(exported.status, exported.text).toBe(200);
    expect(exported.json).toMatchObject({ user: expect.stringContaining("@"), records: [] });
    // Not a sign-in: stepup's own API and the other routes do not know this caller.
    expect((await script.request(origin, "GET", "/stepup/api/factors", undefined, bearer)).status).toBe(401);
    expect((await script.request(origin, "GET", "/admin", undefined, bearer)).status).toBe(401);
    const jwks = await script.get(origin, "/stepup/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    expect(jwks.text).not.toContain('"d"');
  });

  it("GET /admin from a browser navigation: 401 with the challenge page inline, no-store", async () => {
    const b = await signedIn();
    // fetch always sends Sec-Fetch-Mode: cors; a navigation needs a hand-written request.
    const { host } = new URL(origin);
    const res = await rawRequest(
      origin,
      `GET /admin HTTP/1.1\r\nHost: ${host}\r\nAccept: text/html,application/xhtml+xml\r\nSec-Fetch-Mode: navigate\r\nCookie: ${b.cookieHeader()}\r\n`,
    );
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toMatch(/no-store/);
    expect(res.body).toMatch(/<title>Confirm it&#39;s you/);
  });

  it("serves the browser bundle through Next too (the pages' passkey script)", async () => {
    const res = await new Browser().get(origin, "/stepup/assets/stepup.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(res.text.length).toBeGreaterThan(1000);
  });

  it("without a login the guard answers 401 unauthenticated", async () => {
    const res = await new Browser().get(origin, "/api/export");
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: "unauthenticated" });
  });

  // Same class as the Express demo's finding (fuzzing): the demo's getUser decoded its session
  // cookie outside the catch, so `demo_session=%zz` threw (URIError) and every stepup and guarded
  // route answered 500 internal_error.
  it("an app session cookie that does not decode, or is no seal, counts as signed out, never a 500", async () => {
    const b = await signedIn();
    const real = b.jar.get("demo_session") ?? "";
    for (const bad of ["%zz", `A${real.slice(1)}`, "x"]) {
      for (const path of ["/stepup/api/factors", "/api/export", "/admin"]) {
        const res = await fetch(`${origin}${path}`, {
          headers: { cookie: `demo_session=${bad}`, accept: "application/json" },
          redirect: "manual",
        });
        expect(
          { status: res.status, error: ((await res.json()) as { error?: string }).error },
          `${bad} ${path}`,
        ).toEqual({ status: 401, error: "unauthenticated" });
      }
    }
  });

  it("logout ends the app session and the step-up cookie", async () => {
    const b = await signedIn();
    await b.get(origin, "/api/export"); // issues a step-up cookie
    expect(b.jar.has("stepup")).toBe(true);
    const out = await b.post(origin, "/logout");
    expect(out.status, out.text).toBe(200);
    expect(b.jar.has("stepup")).toBe(false);
    expect((await b.get(origin, "/api/export")).json).toMatchObject({ error: "unauthenticated" });
  });
});

describe("examples/next: a phishable code cannot reach the passkey-only routes", () => {
  // The attack: a phishing page relays the victim's TOTP code in real time. A code is only "mfa"; a
  // route that demands "phishing-resistant" must not offer one, however recently it was typed.
  const ROUTES = [
    { path: "/admin/security", resource: "security", action: "manage" },
    { path: "/vault", resource: "vault", action: "open" },
  ] as const;
  const typesOf = (json: Record<string, unknown>) => (json.factors as { type: string }[]).map((f) => f.type);

  for (const { path, resource, action } of ROUTES) {
    it(`GET ${path} (JSON) for a TOTP-only user: 401 step_up_required offering no TOTP`, async () => {
      const b = await signedIn();
      await enrollTotp(b);
      // The same user is offered the code where "mfa" is enough: the TOTP factor is really there.
      expect(typesOf((await b.get(origin, "/admin")).json)).toContain("totp");

      const res = await b.get(origin, path);
      expect(res.status, res.text).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.json).toMatchObject({ error: "step_up_required", resource, action, maxAge: 300 });
      expect(typesOf(res.json)).not.toContain("totp");
      expect(typesOf(res.json)).not.toContain("recovery");
    });

    it(`GET ${path} from a browser navigation: 401 with the challenge page inline, no code field`, async () => {
      const b = await signedIn();
      await enrollTotp(b);
      // A navigation (fetch always sends Sec-Fetch-Mode: cors); supertest decodes the chunked body,
      // so a missing field is really missing, not split by a chunk boundary.
      const navigate = (to: string) =>
        request(origin).get(to).set({
          accept: "text/html,application/xhtml+xml",
          "sec-fetch-mode": "navigate",
          cookie: b.cookieHeader(),
        });
      const CODE_FIELD = 'name="code"'; // the TOTP and the recovery code inputs
      expect((await navigate("/admin")).text).toContain(CODE_FIELD);

      const res = await navigate(path);
      expect(res.status).toBe(401);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toMatch(/no-store/);
      expect(res.text).toMatch(/<title>Confirm it&#39;s you/);
      expect(res.text).not.toContain(CODE_FIELD);
    });
  }

  it("the home page links both routes", async () => {
    const b = await signedIn();
    const home = await b.request(origin, "GET", "/", undefined, { accept: "text/html" });
    expect(home.status).toBe(200);
    expect(home.text).toContain('href="/admin/security"');
    expect(home.text).toContain('href="/vault"');
  });
});

describe("examples/next: passkeys are bound to STEPUP_ORIGIN", () => {
  /** The relying party id a new user's passkey registration names (no factor yet: no step-up). */
  async function rpIdAt(at: string): Promise<unknown> {
    const b = new Browser();
    const signup = await b.post(at, "/signup", { email: uniqueEmail("next-rp"), password: PASSWORD });
    expect(signup.status, signup.text).toBe(201);
    const started = await b.post(at, "/stepup/api/factors/webauthn");
    expect(started.status, started.text).toBe(201);
    return (started.json.options as { rp?: { id?: string } } | undefined)?.rp?.id;
  }

  it("by default the relying party is localhost, the host the demo serves on", async () => {
    expect(await rpIdAt(origin)).toBe("localhost");
  });

  it("STEPUP_ORIGIN moves the relying party to that origin's host", async () => {
    const other = await startNextDemo({ STEPUP_ORIGIN: "http://demo.localhost:8443" });
    try {
      expect(await rpIdAt(other.origin)).toBe("demo.localhost");
    } finally {
      await other.stop();
    }
  }, 60_000);
});

describe("examples/next: protection never depends on proxy.ts", () => {
  it("a request carrying x-middleware-subrequest is still guarded", async () => {
    const b = await signedIn();
    for (const value of ["middleware", "src/middleware", "proxy:proxy:proxy:proxy:proxy", "1"]) {
      const h = { "x-middleware-subrequest": value };
      expect((await b.request(origin, "GET", "/api/export", undefined, h)).status).toBe(401);
      expect((await b.request(origin, "POST", "/account/delete", {}, h)).status).toBe(401);
      const page = await b.request(origin, "GET", "/admin", undefined, { ...h, accept: "text/html" });
      expect(page.status).toBe(401);
    }
  });
});

describe("examples/next: the guarded Server Action (a public POST endpoint)", () => {
  it("same origin and not fresh: the typed stepUpRequired result with an open challenge", async () => {
    const b = await signedIn();
    const res = await callAction(b, { origin });
    expect(res.status, res.text).toBe(200);
    expect(actionValue(res.text)).toMatchObject({
      ok: false,
      stepUpRequired: { resource: "account", action: "delete", maxAge: 300 },
    });
  });

  it("a missing Origin is refused with origin_mismatch", async () => {
    const b = await signedIn();
    const res = await callAction(b, {});
    expect(actionValue(res.text), res.text).toEqual({ ok: false, error: "origin_mismatch" });
  });

  it("a foreign Origin is refused, even with a spoofed X-Forwarded-Host that satisfies Next's own check", async () => {
    const b = await signedIn();
    const plain = await callAction(b, { origin: "http://evil.example" });
    expect(actionValue(plain.text)?.ok, plain.text).not.toBe(true);
    const spoofed = await callAction(b, {
      origin: "http://evil.example",
      "x-forwarded-host": "evil.example",
    });
    expect(actionValue(spoofed.text), spoofed.text).toEqual({ ok: false, error: "origin_mismatch" });
  });

  it("after a step-up for account:delete the action runs", async () => {
    const b = await signedIn();
    const secret = await enrollTotp(b);
    const required = actionValue((await callAction(b, { origin })).text);
    const challengeId = String(
      (required?.stepUpRequired as { challengeId?: string } | undefined)?.challengeId,
    );
    const verified = await b.post(origin, `/stepup/api/challenges/${challengeId}/verify`, {
      factor: "totp",
      code: await codeFor(secret, Date.now()),
    });
    expect(verified.status, verified.text).toBe(200);
    const done = await callAction(b, { origin });
    expect(actionValue(done.text), done.text).toMatchObject({ ok: true, deleted: true });
  });
});

// The review's findings on the Next demo: a fresh step-up let `POST /account/delete` run from
// `Origin: https://evil.example` (200); request bodies were read with no limit; a transfer's
// approval showed nothing of what was approved.
describe("examples/next: hardening", () => {
  async function steppedUp(): Promise<Browser> {
    const b = await signedIn();
    const secret = await enrollTotp(b);
    const challenge = await b.get(origin, "/api/export");
    const verified = await b.post(origin, `/stepup/api/challenges/${challenge.json.challengeId}/verify`, {
      factor: "totp",
      code: await codeFor(secret, Date.now()),
    });
    expect(verified.status, verified.text).toBe(200);
    return b;
  }

  it("a stepped-up user's account is not deleted by a request from another origin", async () => {
    const b = await steppedUp();
    for (const foreign of ["https://evil.example", "null", origin.replace("http:", "https:")]) {
      const res = await b.request(origin, "POST", "/account/delete", {}, { origin: foreign });
      expect(res.status, `${foreign}: ${res.text}`).toBe(403);
      expect(res.json).toMatchObject({ error: "origin_mismatch" });
    }
    const site = await b.request(origin, "POST", "/account/delete", {}, { "sec-fetch-site": "cross-site" });
    expect(site.status).toBe(403);
    const own = await b.post(origin, "/account/delete", {});
    expect(own.json).toMatchObject({ deleted: true });
  });

  it("a form body over 64 KiB is refused with 413 before the guard reads it", async () => {
    const b = await signedIn();
    const res = await b.request(origin, "POST", "/transfer", undefined, {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    });
    expect(res.status).toBe(400); // no body: not a transfer
    const big = await fetch(`${origin}/account/delete`, {
      method: "POST",
      headers: { origin, cookie: b.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
      body: `reason=${"x".repeat(70 * 1024)}`,
    });
    expect(big.status).toBe(413);
  });

  it("a transfer shows what is approved, and a typed grant pays exactly that", async () => {
    const b = await signedIn();
    const secret = await enrollTotp(b);
    const first = await b.post(origin, "/transfer", { amount: 1234, to: "alice" });
    expect(first.status).toBe(401);
    expect(first.json).toMatchObject({ error: "step_up_required", description: "Send 1234 to alice" });
    const verified = await b.post(origin, `/stepup/api/challenges/${first.json.challengeId}/verify`, {
      factor: "totp",
      code: await codeFor(secret, Date.now()),
    });
    expect(verified.status, verified.text).toBe(200);
    const bent = await b.post(origin, "/transfer", { amount: ["1234"], to: "alice" });
    expect(bent.status).toBe(400);
    expect(bent.json).toMatchObject({ error: "invalid_input" });
    const paid = await b.post(origin, "/transfer", { amount: "1234", to: "alice" });
    expect(paid.json).toMatchObject({ transferred: true, amount: 1234, to: "alice" });
    const again = await b.post(origin, "/transfer", { amount: 1234, to: "alice" });
    expect(again.status).toBe(401);
  });

  it("the inline page for a transfer shows the description", async () => {
    const b = await signedIn();
    await enrollTotp(b);
    const res = await request(origin)
      .post("/transfer")
      .set("cookie", b.cookieHeader())
      .set("origin", origin)
      .set("accept", "text/html")
      .set("sec-fetch-mode", "navigate")
      .type("form")
      .send({ amount: "77", to: "bob" });
    expect(res.status).toBe(401);
    expect(res.text).toContain("Send 77 to bob");
  });
});

describe("examples/next: sign-in redirect and return", () => {
  // Attack: an open redirect through the login form's `returnTo`.
  it("a signed-out browser goes to the login and, after it, back to the same-origin path only", async () => {
    const email = uniqueEmail("next");
    const b = new Browser();
    await b.post(origin, "/signup", { email, password: PASSWORD });
    const page = await request(origin)
      .get("/admin")
      .set("accept", "text/html")
      .set("sec-fetch-mode", "navigate");
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/?returnTo=%2Fadmin");
    const login = (returnTo: string) =>
      request(origin)
        .post("/login")
        .set("origin", origin)
        .type("form")
        .send({ email, password: PASSWORD, returnTo });
    expect((await login("/admin")).headers.location).toBe("/admin");
    for (const foreign of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "evil.example"]) {
      expect((await login(foreign)).headers.location, foreign).toBe("/");
    }
  });
});
