// A 401's `enrollUrl` sends the user to the console to add a factor. Offered to a user who cannot
// use it (locked out with factors, or signing in before the app's session exists) it is a dead
// end that reads like advice: only a user with no factor gets one.
import type { Challenge, OpenedChallenge } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

function body(http: ReturnType<typeof testHttp>, resource: string, action: string, userLocked: boolean) {
  const rule = http.engine.rules.lookup(resource, action);
  const challenge = { id: "c".repeat(22), expiresAtMs: Date.now() + 60_000 } as Challenge;
  const opened: OpenedChallenge = { challenge, factors: [], userLocked };
  return http.stepUpRequired({ kind: "step-up-required", rule, opened, cookies: [] });
}

describe("enrollUrl on a 401", () => {
  it("is given to a user with no factor", () => {
    expect(body(testHttp(), "admin", "read", false)).toMatchObject({ enrollUrl: "/stepup/console" });
  });

  it("is not given to a locked-out user (they have factors; the console cannot unlock them)", () => {
    expect(body(testHttp(), "admin", "read", true)).not.toHaveProperty("enrollUrl");
  });

  it("is not given while signing in (the console needs the app's own session)", () => {
    expect(body(testHttp(), "session", "sign-in", false)).not.toHaveProperty("enrollUrl");
  });
});
