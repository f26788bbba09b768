// Threat: a client picks the Host header. One with userinfo (`Host: a@b`) made a valid URL that a
// Fetch `Request` refuses to be built from ("includes credentials"): every stepup route answered 500
// (found by the fuzzer, test/fuzz.express.test.ts). One with a path or a fragment moved the request
// to another URL than the one sent. Both are now a 400 invalid_input, like a Host that parses not.
import { once } from "node:events";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { memoryStore, totp } from "@stepup/core";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepUp } from "./step-up.js";

let server: Server;
let port: number;

beforeAll(async () => {
  const stepup = stepUp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    getUser: () => ({ id: "u1" }),
    factors: [totp()],
  });
  const app = express();
  app.use(express.json());
  app.use("/stepup", stepup.router);
  app.post(
    "/delete",
    stepup.requireStepUp({ resource: "account", action: "delete", maxAge: 60 }),
    (_q, r) => {
      r.json({ deleted: true });
    },
  );
  app.use(stepup.errorHandler);
  server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One request with a Host header of our choosing (node:http sends it as given). */
function send(
  method: string,
  path: string,
  host: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: "127.0.0.1",
        port,
        method,
        path,
        headers: { host, accept: "application/json", "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(method === "GET" ? undefined : "{}");
  });
}

describe("a Host header that is more than a host and port", () => {
  const hosts = ["a@b", "user:pass@127.0.0.1", "evil.example/x", "evil.example#x", "evil.example?x", "a\\b"];

  it.each(hosts)(
    "Host: %s is a 400 on the API and the guard (invalid_input) and on the pages (a page), never a 500",
    async (host) => {
      for (const [method, path] of [
        ["GET", "/stepup/api/factors"],
        ["POST", "/stepup/api/challenges"],
        ["POST", "/delete"],
      ] as const) {
        const res = await send(method, path, host);
        expect({ status: res.status, type: res.type }, `${method} ${path}: ${res.body}`).toEqual({
          status: 400,
          type: "application/problem+json",
        });
        expect(JSON.parse(res.body).error).toBe("invalid_input");
      }
      const page = await send("GET", "/stepup/console", host);
      expect(page.status, page.body).toBe(400);
      expect(page.type).toMatch(/^text\/html/);
    },
  );

  it("a plain host and port still works", async () => {
    const res = await send("GET", "/stepup/api/factors", `127.0.0.1:${port}`);
    expect(res.status, res.body).toBe(200);
  });
});
