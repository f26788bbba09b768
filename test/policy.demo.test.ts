// Attack: getting past step-up by what the policy waives. A password alone under each level; a
// grace period the user tries to reset; a new browser under RISK_BASED; a big payment from a known
// device; a trusted-device cookie stretched to rules that do not allow it, or copied to another
// user; a risk hook's ALLOW on a payment or on adding a factor; a sign-in completed twice or from
// another browser. Through the Express demo in this process (its options are what the server reads
// from STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS and STEPUP_SIGNIN), with a clock the test
// moves instead of waiting.
import { afterEach, describe, expect, it } from "vitest";
import { type Demo, startDemo } from "./support/demo.js";
import {
  type Account,
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

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A clock for stepup that the test moves forward. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number): void {
      offset += ms;
    },
  };
}

const demos: Demo[] = [];
afterEach(async () => {
  await Promise.all(demos.splice(0).map((d) => d.close()));
});

async function demo(options: Parameters<typeof startDemo>[0] = {}): Promise<string> {
  const d = await startDemo(options);
  demos.push(d);
  return d.origin;
}

describe("STEPUP_POLICY levels through the Express demo", () => {
  it("DISABLED: the password alone opens /admin and /api/export, factor or not; a payment still asks (never waived by the global level)", async () => {
    const origin = await demo({ policy: { requirement: "DISABLED" } });
    const plain = new Browser();
    await signUp(plain, origin);
    expect((await plain.get(origin, "/admin")).status).toBe(200);
    expect((await plain.get(origin, "/api/export")).status).toBe(200);

    const { b } = await userWithTotp(origin);
    expect((await b.get(origin, "/admin")).status).toBe(200);
    expect((await b.get(origin, "/api/export")).status).toBe(200);
    challengeOf(await b.post(origin, "/transfer", { amount: 10, to: "alice" }), "transfer under DISABLED");
  });

  it("OPTIONAL (the default): a user without a factor passes; once they add one, the password alone no longer opens /admin", async () => {
    const origin = await demo();
    const b = new Browser();
    const account = await signUp(b, origin);
    expect((await b.get(origin, "/admin")).status).toBe(200);
    expect((await b.get(origin, "/api/export")).status).toBe(200);
    await addTotp(b, origin, account);
    await stepUpAt(b, origin, "/admin", account);
    expect((await b.get(origin, "/admin")).status).toBe(200);
  });

  it("REQUIRED: a password alone meets a challenge offering enrolment (JSON enrollUrl, the page's link), not the admin panel", async () => {
    const origin = await demo({ policy: { requirement: "REQUIRED" } });
    const b = new Browser();
    await signUp(b, origin);
    const json = challengeOf(await b.get(origin, "/admin"));
    expect(json.factors).toEqual([]);
    expect(json.enrollUrl).toBe("/stepup/console");
    const page = await navigate(b, origin, "/api/export");
    expect(page.status).toBe(401);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain("/stepup/console");
  });

  it("REQUIRED with STEPUP_GRACE_DAYS: within the grace period a user without a factor passes, told the deadline by Stepup-Enroll-By", async () => {
    const origin = await demo({ policy: { requirement: "REQUIRED", gracePeriodDays: 3 } });
    const b = new Browser();
    await signUp(b, origin);
    const started = Date.now();
    const res = await b.get(origin, "/admin");
    expect(res.status, res.text).toBe(200);
    const header = res.headers.get("stepup-enroll-by");
    expect(header, "Stepup-Enroll-By").toBeTruthy();
    expect(Math.abs(Date.parse(String(header)) - (started + 3 * DAY))).toBeLessThan(MINUTE);
    // The page says so too.
    const page = await navigate(b, origin, "/admin");
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Add a second factor in the console by ${header}`);
  });

  it("the grace deadline cannot be reset by the user: logging out and in, another browser and days later give the same Stepup-Enroll-By; past it, the challenge comes", async () => {
    const clock = movableClock();
    const origin = await demo({ policy: { requirement: "REQUIRED", gracePeriodDays: 2 }, clock });
    const b = new Browser();
    const account = await signUp(b, origin);
    const first = await b.get(origin, "/admin");
    expect(first.status, first.text).toBe(200);
    const deadline = first.headers.get("stepup-enroll-by");
    expect(deadline).toBeTruthy();

    // Log out (ends the step-up session, drops cookies) and in again.
    expect((await b.post(origin, "/logout")).status).toBe(200);
    b.jar.clear();
    expect((await logIn(b, origin, account)).status).toBe(200);
    expect((await b.get(origin, "/api/export")).headers.get("stepup-enroll-by")).toBe(deadline);

    // Another browser, a day later.
    clock.advance(DAY);
    const other = new Browser();
    expect((await logIn(other, origin, account)).status).toBe(200);
    const later = await other.get(origin, "/admin");
    expect(later.status).toBe(200);
    expect(later.headers.get("stepup-enroll-by")).toBe(deadline);

    // Past the deadline: enrol first.
    clock.advance(DAY + MINUTE);
    const after = challengeOf(await other.get(origin, "/admin"), "after the grace period");
    expect(after.enrollUrl).toBe("/stepup/console");
    challengeOf(await b.get(origin, "/admin"), "the first browser too");
  });

  it("RISK_BASED: a known device passes /admin without a challenge once the step-up is old; a new browser with the same password is challenged (newDevice)", async () => {
    const clock = movableClock();
    const origin = await demo({ policy: { requirement: "RISK_BASED" }, clock });
    const { b, account } = await userWithTotp(origin);
    // This browser is new: the first visit asks, and the verification makes it known.
    await stepUpAt(b, origin, "/admin", account);
    expect(deviceCookieName(b), "the device cookie after a verification").toBeDefined();
    clock.advance(20 * MINUTE); // past admin:read's 15 minutes
    const known = await b.get(origin, "/admin");
    expect(known.status, known.text).toBe(200);

    const thief = new Browser();
    expect((await logIn(thief, origin, account)).status).toBe(200);
    challengeOf(await thief.get(origin, "/admin"), "a new browser");
  });

  it("RISK_BASED: a transfer over 1000 always asks, even from a known device; at or under 1000 from a known device it passes", async () => {
    const origin = await demo({ policy: { requirement: "RISK_BASED" } });
    const { b, account } = await userWithTotp(origin);
    await stepUpAt(b, origin, "/api/export", account);
    challengeOf(
      await b.post(origin, "/transfer", { amount: 1500, to: "mallory" }),
      "1500 from a known device",
    );
    challengeOf(await b.post(origin, "/transfer", { amount: 1000.01, to: "mallory" }), "1000.01");
    const small = await b.post(origin, "/transfer", { amount: 1000, to: "alice" });
    expect(small.status, small.text).toBe(200);
    expect(small.json).toMatchObject({ transferred: true, amount: 1000, to: "alice" });
  });

  it("RISK_BASED: after a password change even a known device is asked again (afterCredentialChange)", async () => {
    const clock = movableClock();
    const origin = await demo({ policy: { requirement: "RISK_BASED" }, clock });
    const { b, account } = await userWithTotp(origin);
    await stepUpAt(b, origin, "/admin", account);
    clock.advance(20 * MINUTE);
    expect((await b.get(origin, "/admin")).status).toBe(200);
    const changed = await b.post(origin, "/password", {
      password: account.password,
      newPassword: "a brand new passphrase",
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toEqual({ changed: true });
    challengeOf(await b.get(origin, "/admin"), "after the password change");
  });
});

describe("trusted devices (Remember this device) through the Express demo", () => {
  async function remembered(clock: ReturnType<typeof movableClock>, origin: string) {
    const { b, account } = await userWithTotp(origin);
    await stepUpAt(b, origin, "/admin", account, { rememberDevice: true });
    clock.advance(20 * MINUTE); // past every demo rule's maxAge
    return { b, account };
  }

  it("a remembered device opens /admin and /api/export after the step-up expired, without a challenge", async () => {
    const clock = movableClock();
    const origin = await demo({ clock });
    const { b } = await remembered(clock, origin);
    expect((await b.get(origin, "/admin")).status).toBe(200);
    expect((await b.get(origin, "/api/export")).status).toBe(200);
  });

  it("a remembered device does not stretch to /account/delete (no trusted devices there) nor to /transfer", async () => {
    const clock = movableClock();
    const origin = await demo({ clock });
    const { b } = await remembered(clock, origin);
    challengeOf(await b.post(origin, "/account/delete", { confirm: "yes" }), "account:delete");
    challengeOf(await b.post(origin, "/transfer", { amount: 5, to: "alice" }), "transfer");
  });

  it("a device that was only seen (no Remember) is asked again once the step-up expired", async () => {
    const clock = movableClock();
    const origin = await demo({ clock });
    const { b, account } = await userWithTotp(origin);
    await stepUpAt(b, origin, "/admin", account);
    clock.advance(20 * MINUTE);
    challengeOf(await b.get(origin, "/admin"), "a seen, not trusted, device");
  });

  it("a device cookie copied to another user's login gives nothing", async () => {
    const clock = movableClock();
    const origin = await demo({ clock });
    // (enrolled before the clock moves: TOTP codes follow stepup's clock)
    const { b: attacker } = await userWithTotp(origin, "attacker");
    const { b: victim } = await remembered(clock, origin);
    const name = deviceCookieName(victim);
    expect(name, "the victim's device cookie").toBeDefined();
    attacker.jar.set(String(name), String(victim.jar.get(String(name))));
    challengeOf(await attacker.get(origin, "/admin"), "another user's device cookie");
  });

  it("the challenge page offers the Remember this device checkbox", async () => {
    const origin = await demo();
    const { b } = await userWithTotp(origin);
    const page = await navigate(b, origin, "/admin");
    expect(page.status).toBe(401);
    expect(page.text).toMatch(/name="rememberDevice"/);
  });
});

describe("a risk hook's ALLOW cannot waive the protected classes (Express demo)", () => {
  it("with decide() answering ALLOW, /admin passes but /transfer and adding a second factor still ask", async () => {
    const origin = await demo({ policy: { requirement: "REQUIRED", decide: () => "ALLOW" } });
    const { b } = await userWithTotp(origin);
    const admin = await b.get(origin, "/admin");
    expect(admin.status, "an ordinary rule is waived by ALLOW").toBe(200);
    challengeOf(await b.post(origin, "/transfer", { amount: 5, to: "alice" }), "transfer under ALLOW");
    const second = await b.post(origin, "/stepup/api/factors/totp");
    expect(second.status, second.text).toBe(401);
    expect(second.json).toMatchObject({
      error: "step_up_required",
      resource: "stepup",
      action: "factor.add",
    });
  });
});

describe("STEPUP_SIGNIN: the sign-in second factor through the Express demo", () => {
  /** A user with TOTP, signed out: what an attacker who learnt the password faces. */
  async function signedOutUser(origin: string): Promise<Account> {
    const { b, account } = await userWithTotp(origin, "signin");
    expect((await b.post(origin, "/logout")).status).toBe(200);
    return account;
  }

  it("a password alone no longer signs in a user with a factor: JSON login answers 401 step_up_required for session:sign-in, and no session starts", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);
    const b = new Browser();
    const res = await logIn(b, origin, account);
    expect(res.status, res.text).toBe(401);
    expect(res.json).toMatchObject({ error: "step_up_required", resource: "session", action: "sign-in" });
    expect(await signedIn(b, origin)).toBe(false);
  });

  it("a form login answers the challenge page inline (401 HTML)", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);
    const b = new Browser();
    const page = await navigate(b, origin, "/login", { email: account.email, password: account.password });
    expect(page.status).toBe(401);
    expect(page.type).toMatch(/^text\/html/);
    expect(await signedIn(b, origin)).toBe(false);
  });

  it("verifying the sign-in challenge (TOTP) then /login/complete signs in: GET redirects home, POST answers { signedIn: true }", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);

    const b = new Browser();
    const challenge = challengeOf(await logIn(b, origin, account));
    await verify(b, origin, challenge, account);
    const done = await b.post(origin, "/login/complete");
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({ signedIn: true, email: account.email });
    expect(await signedIn(b, origin)).toBe(true);

    const page = new Browser();
    await verify(page, origin, challengeOf(await logIn(page, origin, account)), account);
    const back = await navigate(page, origin, "/login/complete");
    expect(back.status, back.text).toBe(303);
    expect(back.location).toBe("/");
    expect(await signedIn(page, origin)).toBe(true);
  });

  it("sign-in completion cannot be replayed: a second /login/complete with the same cookies gives nothing", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);
    const b = new Browser();
    await verify(b, origin, challengeOf(await logIn(b, origin, account)), account);
    const replay = b.clone();
    expect((await b.post(origin, "/login/complete")).status).toBe(200);
    const again = await replay.post(origin, "/login/complete");
    expect(again.status, again.text).toBe(401);
    expect(again.json).toEqual({ error: "sign_in_incomplete" });
    expect(await signedIn(replay, origin)).toBe(false);
  });

  it("sign-in cannot be completed from another browser: the attacker's own password login there stays incomplete", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);
    const victim = new Browser();
    const attacker = new Browser();
    challengeOf(await logIn(attacker, origin, account), "the attacker's login");
    await verify(victim, origin, challengeOf(await logIn(victim, origin, account)), account);
    const stolen = await attacker.post(origin, "/login/complete");
    expect(stolen.status, stolen.text).toBe(401);
    expect(await signedIn(attacker, origin)).toBe(false);
    expect((await victim.post(origin, "/login/complete")).status).toBe(200);
  });

  it("a trusted device skips the sign-in challenge next time; a new browser still gets it", async () => {
    const origin = await demo({ policy: { signIn: true } });
    const account = await signedOutUser(origin);
    const b = new Browser();
    await verify(b, origin, challengeOf(await logIn(b, origin, account)), account, { rememberDevice: true });
    expect((await b.post(origin, "/login/complete")).status).toBe(200);
    expect((await b.post(origin, "/logout")).status).toBe(200);

    const again = await logIn(b, origin, account);
    expect(again.status, again.text).toBe(200);
    expect(await signedIn(b, origin)).toBe(true);
    challengeOf(await logIn(new Browser(), origin, account), "a new browser");
  });

  it("without STEPUP_SIGNIN, login stays one step for a user with a factor", async () => {
    const origin = await demo();
    const account = await signedOutUser(origin);
    const b = new Browser();
    expect((await logIn(b, origin, account)).status).toBe(200);
    expect(await signedIn(b, origin)).toBe(true);
  });
});

describe("POST /password through the Express demo", () => {
  it("changes the password only with the current one (8+ characters), and ends a fresh step-up at once", async () => {
    const origin = await demo();
    const { b, account } = await userWithTotp(origin);
    await stepUpAt(b, origin, "/admin", account);
    expect((await b.get(origin, "/admin")).status).toBe(200);

    const wrong = await b.post(origin, "/password", {
      password: "not my password",
      newPassword: "whatever123",
    });
    expect(wrong.status).toBe(403);
    const short = await b.post(origin, "/password", { password: account.password, newPassword: "short" });
    expect(short.status).toBe(400);
    expect((await b.get(origin, "/admin")).status, "failed attempts change nothing").toBe(200);

    const ok = await b.post(origin, "/password", {
      password: account.password,
      newPassword: "new passphrase 42",
    });
    expect(ok.json).toEqual({ changed: true });
    challengeOf(await b.get(origin, "/admin"), "after the change");
    expect((await logIn(new Browser(), origin, account)).status, "the old password").toBe(401);
    account.password = "new passphrase 42";
    expect((await logIn(new Browser(), origin, account)).status, "the new password").toBe(200);
  });

  it("the home page's form: a wrong current password gets the page again with the error (403); a good one goes home (303)", async () => {
    const origin = await demo();
    const b = new Browser();
    const account = await signUp(b, origin);
    const home = await navigate(b, origin, "/");
    expect(home.text).toContain('action="/password"');
    expect(home.text).toContain("Step-up policy: OPTIONAL");
    const wrong = await navigate(b, origin, "/password", {
      password: "not it at all",
      newPassword: "whatever123",
    });
    expect(wrong.status).toBe(403);
    expect(wrong.type).toMatch(/^text\/html/);
    expect(wrong.text).toContain("That is not your current password.");
    const ok = await navigate(b, origin, "/password", {
      password: account.password,
      newPassword: "whatever123",
    });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe("/");
  });

  it("a signed-out request cannot change anyone's password (401)", async () => {
    const origin = await demo();
    const res = await new Browser().post(origin, "/password", {
      password: "x".repeat(8),
      newPassword: "y".repeat(8),
    });
    expect(res.status).toBe(401);
  });
});
