import { recoveryCodes, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";
import { openApiDocument } from "./openapi.js";

const get = (path: string, method = "GET") => new Request(`https://app.example${path}`, { method });

describe("GET {basePath}/openapi.json", () => {
  it("serves the document of this configuration to anyone, cacheable for five minutes", async () => {
    const http = testHttp({ basePath: "/mfa", factors: [totp(), recoveryCodes()], cookie: { name: "mfa" } });
    const res = await http.handle(get("/mfa/openapi.json"), { user: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(await res.json()).toEqual(
      JSON.parse(
        JSON.stringify(
          openApiDocument({ basePath: "/mfa", factors: [totp(), recoveryCodes()], cookieName: "mfa" }),
        ),
      ),
    );
  });

  it("answers HEAD without a body, and 405 problem+json to another method", async () => {
    const http = testHttp();
    const head = await http.handle(get("/stepup/openapi.json", "HEAD"), { user: null });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await http.handle(get("/stepup/openapi.json", "POST"), { user: { id: "alice" } });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ error: "method_not_allowed" });
  });
});
