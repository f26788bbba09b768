// Threat: an attacker with the password alone holds a sign-in cookie (a pending sign-in). It must
// let them answer the sign-in challenge and nothing else: not open the console, list or add factors
// (enrolling their own authenticator), answer or open another rule's challenge, or pass a guard.
import { type StepUpUser, totp } from "@stepup/core";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";
import { origin, signInBrowser } from "../../test/sign-in-browser.js";

const alice: StepUpUser = { id: "alice" };

async function pendingSignIn() {
  const http = testHttp({ factors: [totp()], signInUrl: "/login" });
  const started = (await http.engine.factors.enrollStart(alice, "totp", {}, undefined)) as {
    factorId: string;
    secret: string;
  };
  const code = (n: number) =>
    generate({ secret: started.secret, epoch: Math.floor(Date.now() / 1000) + n * 30 });
  await http.engine.factors.enrollConfirm(
    alice,
    "totp",
    started.factorId,
    { code: await code(-1) },
    undefined,
  );
  const attacker = signInBrowser(http);
  const { outcome } = await attacker.login("alice", "json");
  if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
  return { http, attacker, sid: outcome.opened.challenge.sid, code };
}

describe("the sign-in cookie is an identity for the sign-in challenge only", () => {
  it("the console and the factors API answer as to nobody", async () => {
    const { attacker } = await pendingSignIn();
    const console = await attacker.stepup("console", "page", undefined, "GET");
    expect(console.status).toBe(303); // to the app's login, as for anyone signed out
    expect(console.headers.get("location")).toMatch(/^\/login\?/);
    const listed = await attacker.stepup("api/factors", "json", undefined, "GET");
    expect(listed.status).toBe(401);
    const added = await attacker.stepup("api/factors/totp", "json", {});
    expect(added.status).toBe(401);
    expect(await added.json()).toMatchObject({ error: "unauthenticated" });
    const opened = await attacker.stepup("api/challenges", "json", {
      resource: "session",
      action: "sign-in",
    });
    expect(opened.status).toBe(401);
  });

  it("another rule's challenge of the same user, in the same step-up session, is out of reach", async () => {
    const { http, attacker, sid, code } = await pendingSignIn();
    const rule = http.engine.declareRule("account", "delete", {});
    const other = await http.engine.openChallenge(alice, sid, rule);
    const id = other.challenge.id;
    expect((await attacker.stepup(`challenge/${id}`, "page", undefined, "GET")).status).toBe(303);
    const posted = await attacker.stepup(`challenge/${id}`, "page", { factor: "totp", code: await code(0) });
    expect(posted.status).toBe(401);
    const verified = await attacker.stepup(`api/challenges/${id}/verify`, "json", {
      factor: "totp",
      code: await code(0),
    });
    expect(verified.status).toBe(401);
    expect(await verified.json()).toMatchObject({ error: "unauthenticated" });
    expect((await attacker.stepup(`api/challenges/${id}/start`, "json", { factor: "totp" })).status).toBe(
      401,
    );
  });

  it("a guard sees nobody, even once the sign-in factor is proved (the app signs the user in, not stepup)", async () => {
    const { http, attacker, code } = await pendingSignIn();
    const guard = http.guard({ resource: "admin", action: "read" });
    const request = () =>
      new Request(`${origin}/admin`, { headers: { accept: "application/json", cookie: attacker.cookie() } });
    const before = await guard(request(), { user: null });
    expect(before.kind).toBe("error");
    const again = (await attacker.login("alice", "json")).outcome;
    if (again.kind !== "step-up-required") throw new Error(again.kind);
    await attacker.stepup(`api/challenges/${again.opened.challenge.id}/verify`, "json", {
      factor: "totp",
      code: await code(0),
    });
    const after = await guard(request(), { user: null });
    expect(after.kind).toBe("error");
    if (after.kind === "pass") return;
    expect(http.render(request(), after).status).toBe(401);
  });

  it("the app's own signed-in user wins over a sign-in cookie in the same browser", async () => {
    const { http, attacker } = await pendingSignIn();
    const request = new Request(`${origin}/stepup/api/factors`, {
      headers: { accept: "application/json", cookie: attacker.cookie() },
    });
    const res = await http.handle(request, { user: { id: "bob" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ factors: [] }); // bob's, not alice's
  });
});
