// Attack: forged requests against the step-up endpoints: tampered or oversized cookies, a foreign
// Origin/Referer (CSRF), missing or stolen CSRF tokens, an off-site returnTo (open redirect), and
// request lines or Host headers no browser sends. Never a 500, a foreign link, or a grant.
import { describe, expect, it } from "vitest";
import { corpusFixture, itLeftNoGrant, verifyPath } from "./support/corpus.js";
import { currentCode, openChallenge, PASSWORD, setCookie } from "./support/demo.js";
import { rawRequest } from "./support/raw-http.js";

const c = corpusFixture();

describe("forged requests are refused, never a 500 or a grant", () => {
  it("tampered, garbage and oversized step-up cookies count as no session", async () => {
    const login = await c.demo.agent().post("/login").send({ email: c.email, password: PASSWORD });
    const session = `demo_session=${setCookie(login, "demo_session")}`;
    const real = setCookie(await c.agent.get("/api/export"), "stepup") ?? "";
    const mid = Math.floor(real.length / 2);
    const flipped = real.slice(0, mid) + (real[mid] === "A" ? "B" : "A") + real.slice(mid + 1);
    const code = await currentCode(c.secret);
    for (const bad of [
      flipped,
      real.slice(0, -3),
      "garbage",
      "Fe26.2**a*b*c*d*e*f",
      "%zz;;",
      "A".repeat(10_000),
    ]) {
      const cookie = `${session}; stepup=${bad}`;
      const res = await c.demo
        .agent()
        .post(verifyPath(c.challengeId))
        .set("cookie", cookie)
        .send({ factor: "totp", code });
      c.problem(res, 403, "challenge_session_mismatch");
      const guarded = await c.demo.agent().get("/api/export").set("cookie", cookie);
      c.problem(guarded, 401, "step_up_required");
      expect(setCookie(guarded, "stepup")).toBeTruthy(); // a new session, not the tampered one
    }
  });

  // Found by fuzzing (test/fuzz.express.test.ts): iron-session reads a bad MAC as an empty session
  // but throws ("Wrong mac prefix") on a value that is not a seal at all, and the demo's session
  // middleware turned that into a 500 on every route, stepup's included.
  it("an app session cookie that is not even a seal counts as signed out, never a 500", async () => {
    const login = await c.demo.agent().post("/login").send({ email: c.email, password: PASSWORD });
    const real = setCookie(login, "demo_session") ?? "";
    for (const bad of [`A${real.slice(1)}`, real.replace("Fe26.2", "Fe26.3"), "x", "Fe26.2"]) {
      const cookie = `demo_session=${bad}`;
      c.problem(await c.demo.agent().get("/api/export").set("cookie", cookie), 401, "unauthenticated");
      c.problem(
        await c.demo.agent().get("/stepup/api/factors").set("cookie", cookie),
        401,
        "unauthenticated",
      );
      const relogin = await c.demo
        .agent()
        .post("/login")
        .set("cookie", cookie)
        .send({ email: c.email, password: PASSWORD });
      expect(relogin.status, relogin.text).toBe(200);
      expect(setCookie(relogin, "demo_session")).toBeTruthy();
    }
  });

  it("a foreign Origin (or Referer, or cross-site fetch) on a state-changing call is refused", async () => {
    const code = await currentCode(c.secret);
    const path = verifyPath(c.challengeId);
    c.problem(
      await c.agent.post(path).set("origin", "https://evil.example").send({ factor: "totp", code }),
      403,
      "origin_mismatch",
    );
    c.problem(
      await c.agent.post(path).set("origin", "null").send({ factor: "totp", code }),
      403,
      "origin_mismatch",
    );
    c.problem(
      await c.agent
        .post(path)
        .unset("origin")
        .set("referer", "https://evil.example/x")
        .send({ factor: "totp", code }),
      403,
      "origin_mismatch",
    );
    c.problem(
      await c.agent
        .post(path)
        .unset("origin")
        .set("sec-fetch-site", "cross-site")
        .send({ factor: "totp", code }),
      403,
      "origin_mismatch",
    );
    c.problem(
      await c.agent.post("/stepup/api/factors/totp").set("origin", "http://127.0.0.1.evil.example").send({}),
      403,
      "origin_mismatch",
    );
    const page = await c.agent
      .post(`/stepup/challenge/${c.challengeId}`)
      .set("origin", "https://evil.example")
      .type("form")
      .send({ code });
    c.bodies.push(page.text);
    expect(page.status).toBe(403);
  });

  it("a foreign returnTo on the console never becomes a link, also after dot-segment normalisation", async () => {
    for (const returnTo of [
      "https://evil.example",
      "//evil.example",
      "/\\evil.example",
      "javascript:alert(1)",
      "/\tjavascript:evil.example",
      "http:evil.example",
      // Dot segments can normalise into "//evil.example": refused too, not echoed back.
      "/.//evil.example",
      "/..//evil.example",
      "/%2e%2e//evil.example",
      "/a/..//evil.example/x",
    ]) {
      const res = await c.agent
        .get(`/stepup/console?returnTo=${encodeURIComponent(returnTo)}`)
        .set("accept", "text/html");
      c.bodies.push(res.text);
      expect(res.status).toBe(200);
      expect(res.text, returnTo).not.toMatch(/evil\.example|javascript:/i);
      expect(res.text).not.toContain("Back to where you were");
    }
    const ok = await c.agent.get("/stepup/console?returnTo=%2Fadmin").set("accept", "text/html");
    expect(ok.text).toContain('href="/admin"');
  });

  it("the challenge form without, with a wrong, or with another challenge's CSRF token is refused", async () => {
    const code = await currentCode(c.secret);
    const page = await c.agent.get(`/stepup/challenge/${c.challengeId}`).set("accept", "text/html");
    const factorId = /name="factorId" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
    const otherId = await openChallenge(c.agent);
    const otherPage = await c.agent.get(`/stepup/challenge/${otherId}`).set("accept", "text/html");
    const otherCsrf = /name="csrf" value="([^"]+)"/.exec(otherPage.text)?.[1] ?? "";
    expect(otherCsrf).not.toBe("");
    for (const csrf of [undefined, "", "x".repeat(43), otherCsrf]) {
      const form = { factor: "totp", factorId, code, ...(csrf === undefined ? {} : { csrf }) };
      const res = await c.agent
        .post(`/stepup/challenge/${c.challengeId}`)
        .type("form")
        .set("accept", "text/html")
        .send(form);
      c.bodies.push(res.text);
      expect(res.status, res.text).toBe(403);
      expect(setCookie(res, "stepup")).toBeUndefined();
    }
  });

  it("a proxy-style absolute-form request target or a malformed Host header is refused, never a 500", async () => {
    const login = await c.demo.agent().post("/login").send({ email: c.email, password: PASSWORD });
    const cookie = `demo_session=${setCookie(login, "demo_session")}`;
    const host = new URL(c.demo.origin).host;
    const cases = [
      [`${c.demo.origin}/api/export`, host], // RFC 9112 section 3.2.2: servers must accept absolute-form
      [`${c.demo.origin}/stepup/api/status?resource=data&action=export`, host],
      ["/api/export", "exa mple"],
      ["/stepup/api/factors", "exa mple"],
    ] as const;
    for (const [target, hostHeader] of cases) {
      const res = await rawRequest(
        c.demo.origin,
        `GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nCookie: ${cookie}\r\nAccept: application/json\r\n`,
      );
      c.bodies.push(res.body);
      expect
        .soft([200, 400, 401, 403, 404], `${target} (Host: ${hostHeader}) -> ${res.status} ${res.body}`)
        .toContain(res.status);
      expect.soft(res.body).not.toContain("exportedAt");
    }
  });

  itLeftNoGrant(c, 20);
});
