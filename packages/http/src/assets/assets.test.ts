import { memoryStore, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { consoleMethods, offered } from "../../test/page-factors.js";
import { createStepUpHttp } from "../create-step-up-http.js";
import { renderChallengePage, renderConsolePage } from "../pages/index.js";
import { cachedAssetCount } from "./serve-asset.js";

const http = createStepUpHttp({
  store: memoryStore(),
  secret: "assets-test-secret-0123456789abcdef-0123",
  appName: "Acme",
  factors: [totp()],
});
const get = (path: string, headers: Record<string, string> = {}) =>
  http.handle(new Request(`http://localhost${path}`, { headers }), { user: null });

describe("GET {basePath}/assets/stepup.js", () => {
  it("serves the browser bundle from memory, cacheable, with a strong ETag and no user", async () => {
    const res = await get("/stepup/assets/stepup.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(await res.text()).toContain("stepup");
    const again = await get("/stepup/assets/stepup.js", { "if-none-match": etag ?? "" });
    expect(again.status).toBe(304);
  });

  it("keeps no memory for unknown names (10,000 random asset names: memory exhaustion)", async () => {
    await get("/stepup/assets/stepup.js");
    for (let i = 0; i < 10_000; i++) {
      const res = await get(`/stepup/assets/${crypto.randomUUID()}.js`);
      expect(res.status).toBe(404);
    }
    expect(cachedAssetCount()).toBe(1);
  });

  it("answers 404 for any other name (no path traversal into the package)", async () => {
    for (const path of ["/stepup/assets/index.js", "/stepup/assets/..%2Fpackage.json"]) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});

describe("pages load the bundle with the CSP nonce, and their data as JSON", () => {
  const base = { appName: "Acme", nonce: "n0nce", basePath: "/stepup" };

  it("challenge page with a passkey: nonce'd module script, data block, button hidden without JS", () => {
    const page = renderChallengePage({
      ...base,
      challengeId: "ch_1",
      resource: "account",
      action: "delete",
      factors: [
        offered({ id: "k1", type: "webauthn", name: "</script><script>alert(1)</script>", primary: true }),
      ],
      csrfToken: "c",
      consoleUrl: "/stepup/console",
      after: { method: "POST", url: "/account/delete", fields: [["confirm", "yes"]] },
    });
    expect(page).toContain('<script type="module" src="/stepup/assets/stepup.js" nonce="n0nce"></script>');
    expect(page).toContain('<script type="application/json" id="stepup-data">');
    expect(page).not.toContain("</script><script>alert(1)");
    expect(page).toMatch(/<div id="stepup-passkey" class="passkey" hidden>/);
    const json = /id="stepup-data">(.*?)<\/script>/s.exec(page)?.[1] ?? "";
    expect(JSON.parse(json)).toMatchObject({
      page: "challenge",
      challengeId: "ch_1",
      after: { method: "POST", url: "/account/delete", fields: [["confirm", "yes"]] },
    });
  });

  it("challenge page with only TOTP loads no script at all", () => {
    const page = renderChallengePage({
      ...base,
      challengeId: "ch_1",
      resource: "a",
      action: "b",
      factors: [offered({ id: "t", type: "totp", name: "Phone", primary: true })],
      csrfToken: "c",
      consoleUrl: "/stepup/console",
    });
    expect(page).not.toContain("<script");
  });

  it("console offers passkeys only when the server has the webauthn factor", () => {
    const data = {
      ...base,
      user: { id: "u" },
      csrfToken: "c",
      factors: [],
    };
    expect(renderConsolePage(data)).not.toContain("stepup-add-passkey");
    const page = renderConsolePage({ ...data, methods: consoleMethods(["totp", "webauthn"]) });
    expect(page).toContain('id="stepup-add-passkey"');
    expect(page).toContain('src="/stepup/assets/stepup.js" nonce="n0nce"');
  });
});
