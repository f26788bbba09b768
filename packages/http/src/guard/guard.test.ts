import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

describe("guard: the return address of a challenge", () => {
  it("a protocol-relative request path returns home, in the page data and the stored challenge", async () => {
    const http = testHttp();
    const guard = http.guard({ resource: "admin", action: "read" });
    const request = new Request("http://localhost:3000//evil.example/x?y=1", {
      headers: { accept: "text/html" },
    });
    expect(new URL(request.url).pathname).toBe("//evil.example/x");
    const outcome = await guard(request, { user: { id: "alice" } });
    if (outcome.kind !== "step-up-required") throw new Error(`unexpected ${outcome.kind}`);
    const page = await http.render(request, outcome).text();
    expect(page).not.toContain("evil.example");
    const json = await guard(new Request("http://localhost:3000//evil.example/x"), { user: { id: "alice" } });
    if (json.kind !== "step-up-required") throw new Error(`unexpected ${json.kind}`);
    const challenge = await http.engine.challenges.load("alice", json.opened.challenge.id);
    expect(challenge.returnTo).toBe("/");
  });
});

describe("guard: outcomes are data, rendered at the edge", () => {
  it("step-up required: the opened challenge and the new session cookie come back as values", async () => {
    const http = testHttp();
    const guard = http.guard({ resource: "data", action: "export", maxAge: 60 });
    const outcome = await guard(new Request("http://localhost:3000/export"), { user: { id: "alice" } });
    expect(outcome).toMatchObject({
      kind: "step-up-required",
      rule: { resource: "data", action: "export", maxAge: 60 },
      cookies: [{ name: "stepup", attributes: { path: "/", sameSite: "Lax" } }],
    });
    if (outcome.kind !== "step-up-required") return;
    expect(http.stepUpRequired(outcome)).toMatchObject({
      challengeId: outcome.opened.challenge.id,
      challengeUrl: `/stepup/challenge/${outcome.opened.challenge.id}`,
      maxAge: 60,
      factors: [],
      enrollUrl: "/stepup/console",
    });
    const response = http.render(new Request("http://localhost:3000/export"), outcome);
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie()[0]).toMatch(/^stepup=Fe26\.2\*/);
  });

  it("no user: an error outcome, rendered 401 problem+json unauthenticated even for a browser", async () => {
    const http = testHttp();
    const guard = http.guard({ resource: "a", action: "b" });
    const request = new Request("http://localhost:3000/a", { headers: { accept: "text/html" } });
    const outcome = await guard(request, { user: null });
    expect(outcome.kind).toBe("error");
    if (outcome.kind === "pass") return;
    const response = http.render(request, outcome);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});
