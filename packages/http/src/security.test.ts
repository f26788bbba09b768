import { describe, expect, it } from "vitest";
import { checkOrigin, createCsrf, safeReturnTo, wantsHtml } from "./security.js";

const base = new URL("https://app.example/stepup/challenge/x");

describe("returnTo: open redirects are refused", () => {
  it.each([
    "https://evil.example/",
    "//evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/ok\nLocation: https://evil.example",
    "/%0d%0aSet-Cookie:x=1",
    "",
    "relative/path",
    `/${"a".repeat(3000)}`,
  ])("%j is not a same-origin path", (value) => {
    const result = safeReturnTo(value, base);
    if (result !== undefined) expect(new URL(result, base).origin).toBe(base.origin);
    if (value.includes("evil") || value.startsWith("javascript")) expect(result).toBeUndefined();
  });

  it("keeps a same-origin path with its query", () => {
    expect(safeReturnTo("/admin?tab=users", base)).toBe("/admin?tab=users");
  });
});

describe("origin check (cross-site request forgery)", () => {
  const req = (headers: Record<string, string>) =>
    new Request("https://app.example/stepup/api/challenges", { method: "POST", headers });
  it("accepts the request's own origin and configured origins", () => {
    expect(() => checkOrigin(req({ origin: "https://app.example" }), [])).not.toThrow();
    expect(() =>
      checkOrigin(req({ origin: "https://admin.example" }), ["https://admin.example"]),
    ).not.toThrow();
  });
  it.each([
    [{ origin: "https://evil.example" }],
    [{ origin: "null" }],
    [{ referer: "https://evil.example/page" }],
    [{ "sec-fetch-site": "cross-site" }],
  ])("refuses %j with ORIGIN_MISMATCH", (headers) => {
    expect(() => checkOrigin(req(headers), [])).toThrow(expect.objectContaining({ code: "ORIGIN_MISMATCH" }));
  });
});

describe("csrf tokens", () => {
  it("verify only for the binding they were made for", () => {
    const csrf = createCsrf("s".repeat(32));
    const token = csrf.token("alice:challenge-1");
    expect(() => csrf.verify("alice:challenge-1", token)).not.toThrow();
    for (const bad of [undefined, "", token.slice(1), csrf.token("mallory:challenge-1")]) {
      expect(() => csrf.verify("alice:challenge-1", bad)).toThrow(
        expect.objectContaining({ code: "CSRF_FAILED" }),
      );
    }
  });
});

describe("client kind", () => {
  const h = (headers: Record<string, string>) => ({ headers: new Headers(headers) });
  it("a browser navigation wants HTML; fetch, JSON and bearer clients do not", () => {
    expect(wantsHtml(h({ accept: "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate" }))).toBe(
      true,
    );
    expect(wantsHtml(h({ accept: "text/html" }))).toBe(true);
    expect(wantsHtml(h({ accept: "*/*", "sec-fetch-mode": "cors" }))).toBe(false);
    expect(wantsHtml(h({ accept: "application/json" }))).toBe(false);
    expect(wantsHtml(h({ accept: "text/html", authorization: "Bearer x" }))).toBe(false);
  });
});
