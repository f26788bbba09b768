// When the app's own body parser refuses a request under stepup's base path (a form over its limit,
// unreadable JSON), `errorHandler` answers for stepup: a browser posting the challenge page's or the
// console's form gets a page (not a JSON document in place of the page), the API gets problem+json.
// Found by fuzzing: every refusal was problem+json, pages included.
import { memoryStore, totp } from "@stepup/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

function app() {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: () => ({ id: "alice" }),
    factors: [totp()],
    logger: { warn() {}, error() {} },
  });
  const a = express();
  a.use(express.urlencoded({ extended: false, limit: "1kb" }));
  a.use(express.json({ limit: "1kb" }));
  a.use("/stepup", stepup.router);
  a.use(stepup.errorHandler);
  return a;
}

const BIG_FORM = `code=${"1".repeat(4096)}`;

describe("@stepup/express: errorHandler for bodies the app's parser refused", () => {
  it.each(["/stepup/challenge/AAAAAAAAAAAAAAAAAAAAAA", "/stepup/console/factors/totp"])(
    "a form over the app's limit posted to the page %s gets a 413 page",
    async (path) => {
      const res = await request(app())
        .post(path)
        .set("accept", "text/html")
        .set("content-type", "application/x-www-form-urlencoded")
        .send(BIG_FORM);
      expect(res.status).toBe(413);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.text).toContain("Form too large");
      expect(res.headers["cache-control"]).toContain("no-store");
    },
  );

  it("unreadable JSON posted to the page gets a 400 page", async () => {
    const res = await request(app())
      .post("/stepup/challenge/AAAAAAAAAAAAAAAAAAAAAA")
      .set("content-type", "application/json")
      .send("{not json");
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.text).not.toMatch(/SyntaxError|at .*\.(js|ts):\d+/);
  });

  it("the API keeps problem+json (413 payload_too_large, 400 invalid_input)", async () => {
    const big = await request(app())
      .post("/stepup/api/challenges")
      .set("content-type", "application/json")
      .send(JSON.stringify({ resource: "a", action: "b", x: "y".repeat(4096) }));
    expect(big.status).toBe(413);
    expect(big.headers["content-type"]).toContain("application/problem+json");
    expect(big.body.error).toBe("payload_too_large");
    const bad = await request(app())
      .post("/stepup/api/challenges")
      .set("content-type", "application/json")
      .send("{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_input");
  });
});
