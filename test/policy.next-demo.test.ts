// Attack, on the Next.js demo (next start): a password alone under the demo's policy variables; a
// remembered device kept after a password change; a sign-in second factor skipped, replayed or
// completed from another browser; a grace deadline restarted by logging in again. Few and broad:
// each Next process takes seconds to start. (The Express demo's policy.demo and policy.process tests
// cover the same contract in depth.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NextDemo } from "./support/next.js";
import { startNextDemo } from "./support/next.js";
import {
  addTotp,
  challengeOf,
  deviceCookieName,
  logIn,
  navigate,
  signedIn,
  signUp,
  stepUpAt,
  userWithTotp,
  verify,
} from "./support/policy.js";
import { Browser } from "./support/process.js";

let optional: NextDemo;
let required: NextDemo;

beforeAll(async () => {
  [optional, required] = await Promise.all([
    // The default level (OPTIONAL), every step-up lasting one second, and the sign-in second factor.
    startNextDemo({ STEPUP_POLICY: "", STEPUP_MAX_AGE: "1", STEPUP_SIGNIN: "1" }),
    startNextDemo({ STEPUP_POLICY: "REQUIRED", STEPUP_GRACE_DAYS: "5" }),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([optional?.stop(), required?.stop()]);
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("examples/next: STEPUP_POLICY and friends", () => {
  it("OPTIONAL (unset): a user without a factor passes /api/export; once they add one, /admin asks for it", async () => {
    const origin = optional.origin;
    const b = new Browser();
    const account = await signUp(b, origin, "next-optional");
    expect((await b.get(origin, "/api/export")).status).toBe(200);
    await addTotp(b, origin, account);
    challengeOf(await b.get(origin, "/admin"), "with a factor");
    const home = await navigate(b, origin, "/");
    expect(home.text).toContain("Step-up policy: OPTIONAL");
  });

  it("REQUIRED with STEPUP_GRACE_DAYS: no factor passes with Stepup-Enroll-By, and a new login does not move the deadline", async () => {
    const origin = required.origin;
    const b = new Browser();
    const account = await signUp(b, origin, "next-grace");
    const first = await b.get(origin, "/admin");
    expect(first.status, first.text).toBe(200);
    const deadline = first.headers.get("stepup-enroll-by");
    expect(deadline, "Stepup-Enroll-By").toBeTruthy();
    const other = new Browser();
    expect((await logIn(other, origin, account)).status).toBe(200);
    expect((await other.get(origin, "/api/export")).headers.get("stepup-enroll-by")).toBe(deadline);
  });

  it("a remembered device opens /admin after its step-up expired, not /account/delete; a password change (POST /password) ends it at once", async () => {
    const origin = optional.origin;
    const { b, account } = await userWithTotp(origin, "next-device");
    await stepUpAt(b, origin, "/admin", account, { rememberDevice: true });
    expect(deviceCookieName(b)).toBeDefined();
    await wait(1_500); // past STEPUP_MAX_AGE=1
    expect((await b.get(origin, "/admin")).status).toBe(200);
    challengeOf(await b.post(origin, "/account/delete", { confirm: "yes" }), "account:delete");

    const changed = await b.post(origin, "/password", {
      password: account.password,
      newPassword: "a new next passphrase",
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toEqual({ changed: true });
    challengeOf(await b.get(origin, "/admin"), "after the password change");
  });

  it("STEPUP_SIGNIN: the password alone does not sign in a user with a factor; verifying then /login/complete does, once, and only in that browser", async () => {
    const origin = optional.origin;
    const { b: setup, account } = await userWithTotp(origin, "next-signin");
    expect((await setup.post(origin, "/logout")).status).toBe(200);

    const attacker = new Browser();
    const theirs = await logIn(attacker, origin, account);
    expect(theirs.json).toMatchObject({ error: "step_up_required", resource: "session", action: "sign-in" });
    expect(await signedIn(attacker, origin)).toBe(false);

    const b = new Browser();
    await verify(b, origin, challengeOf(await logIn(b, origin, account)), account);
    const replay = b.clone();
    const done = await navigate(b, origin, "/login/complete");
    expect(done.status, done.text).toBe(303);
    expect(done.location).toBe("/");
    expect(await signedIn(b, origin)).toBe(true);

    expect((await replay.post(origin, "/login/complete")).status, "a replayed completion").toBe(401);
    expect(await signedIn(replay, origin)).toBe(false);
    expect((await attacker.post(origin, "/login/complete")).status, "another browser").toBe(401);
    expect(await signedIn(attacker, origin)).toBe(false);
  });
});
