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
    const result = await guard(request, { user: { id: "alice" } });
    expect(result.pass).toBe(false);
    if (result.pass) return;
    const page = await result.response.text();
    expect(page).not.toContain("evil.example");
    const json = await guard(new Request("http://localhost:3000//evil.example/x"), { user: { id: "alice" } });
    if (json.pass) return;
    const { challengeId } = (await json.response.json()) as { challengeId: string };
    const challenge = await http.engine.challenges.load("alice", challengeId);
    expect(challenge.returnTo).toBe("/");
  });
});
