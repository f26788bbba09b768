// Threats: recovery codes that leak through the API, that can be regenerated (and so read) with a
// first-factor session alone, or that work twice.
import { recoveryCodes, totp } from "@stepup/core";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

const origin = "http://localhost:3000";
const user = { id: "alice", email: "alice@example.com" };

function client() {
  const http = testHttp({ factors: [totp(), recoveryCodes({ count: 8 })] });
  let cookie = "";
  return async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { accept: "application/json", origin, cookie };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await http.handle(
      new Request(`${origin}/stepup/api/${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      }),
      { user },
    );
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(";")[0] ?? "";
    return {
      status: res.status,
      body: (res.status === 204 ? {} : await res.json()) as Record<string, unknown>,
      headers: res.headers,
    };
  };
}

const now = (steps = 0) => Math.floor(Date.now() / 1000) + steps * 30;

describe("recovery codes over the API", () => {
  it("issued once with the first factor (no-store), counted in the factor list, regenerated only after a step-up", async () => {
    const call = client();
    const started = await call("POST", "factors/totp", {});
    const secret = String(started.body.secret);
    const confirmed = await call("POST", `factors/totp/${started.body.factorId}/confirm`, {
      code: await generate({ secret, epoch: now(-1) }),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get("cache-control")).toBe("no-store");
    const codes = confirmed.body.recoveryCodes as string[];
    expect(codes).toHaveLength(8);

    const list = await call("GET", "factors");
    expect(list.body.recoveryCodesRemaining).toBe(8);
    expect((list.body.factors as { type: string }[]).map((f) => f.type)).toEqual(["totp"]);
    expect(JSON.stringify(list.body)).not.toContain(codes[0]);

    // A first-factor session alone cannot mint (and so read) new codes.
    const refused = await call("POST", "recovery-codes", {});
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe("step_up_required");

    // Step up with a recovery code; the same code then fails.
    const challengeId = String(refused.body.challengeId);
    const recoveryId = (refused.body.factors as { id: string; type: string }[]).find(
      (f) => f.type === "recovery",
    )?.id;
    const ok = await call("POST", `challenges/${challengeId}/verify`, {
      factor: "recovery",
      factorId: recoveryId,
      code: codes[0],
    });
    expect(ok.status).toBe(200);
    const again = await call("POST", "challenges", { resource: "stepup", action: "recovery.regenerate" });
    const reused = await call("POST", `challenges/${again.body.challengeId}/verify`, {
      factor: "recovery",
      factorId: recoveryId,
      code: codes[0],
    });
    expect(reused.status).toBe(400);

    const regenerated = await call("POST", "recovery-codes", {});
    expect(regenerated.status).toBe(201);
    expect(regenerated.body.recoveryCodes).toHaveLength(8);
    expect((await call("GET", "factors")).body.recoveryCodesRemaining).toBe(8);
  });
});
