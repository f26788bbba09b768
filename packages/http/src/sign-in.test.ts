// A signed-out browser reaching a guarded route (or a stepup page) is sent to the app's login and
// back, instead of a raw problem+json; API clients keep the 401. The return path is same-origin only.
import { describe, expect, it } from "vitest";
import { testHttp } from "../test/helpers.js";

const page = (url: string) =>
  new Request(url, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });

describe("signInUrl", () => {
  it("a browser is redirected (303) to the login with returnTo; a JSON client gets 401", async () => {
    const http = testHttp({ signInUrl: "/login" });
    const guard = http.guard({ resource: "admin", action: "read" });
    const request = page("http://localhost:3000/admin?tab=users");
    const outcome = await guard(request, { user: null });
    if (outcome.kind === "pass") throw new Error("passed without a user");
    const res = http.render(request, outcome);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?returnTo=%2Fadmin%3Ftab%3Dusers");
    const api = new Request("http://localhost:3000/admin", { headers: { accept: "application/json" } });
    const json = await guard(api, { user: null });
    if (json.kind === "pass") throw new Error("passed without a user");
    expect(http.render(api, json).status).toBe(401);
  });

  it("the console page redirects too; a function builds the URL; a foreign path never becomes returnTo", async () => {
    const http = testHttp({ signInUrl: (back) => `https://login.example/?next=${encodeURIComponent(back)}` });
    const res = await http.handle(page("http://localhost:3000/stepup/console"), { user: null });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("https://login.example/?next=%2Fstepup%2Fconsole");
    const guard = http.guard({ resource: "a", action: "b" });
    const odd = page("http://localhost:3000//evil.example/x");
    const outcome = await guard(odd, { user: null });
    if (outcome.kind === "pass") throw new Error("passed");
    expect(http.render(odd, outcome).headers.get("location")).toBe("https://login.example/?next=%2F");
  });

  it("a bad signInUrl throws at start-up, naming it", () => {
    for (const bad of ["//evil.example/login", "javascript:alert(1)", "login", 7]) {
      expect(() => testHttp({ signInUrl: bad as never })).toThrow(/`signInUrl`/);
    }
  });
});
