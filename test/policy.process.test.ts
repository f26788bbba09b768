// Attack: a deployment whose policy variables do not say what the operator thinks. A typo in
// STEPUP_POLICY must stop the demo rather than fall back to some level; each level must mean what the
// README table says for a user who only has the password; a grace deadline must not restart with a
// new login. Then, two demo processes on one real Redis: a device revoked on A, or a password changed
// on A, must end what it granted on B at once. Real processes of examples/express/dist/server.js
// (and examples/next's start script for its start-up check).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Channels, CodeClient, startChannels } from "./support/codes.js";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET } from "./support/demo.js";
import {
  type Account,
  challengeOf,
  deviceCookieName,
  logIn,
  type Reply,
  signUp,
  stepUpAt,
  userWithTotp,
  verify,
} from "./support/policy.js";
import {
  Browser,
  DEMO_SERVER,
  type DemoProcess,
  NEXT_START,
  spawnDemo,
  startFails as startWith,
} from "./support/process.js";
import { privateRedis } from "./support/redis.js";

/** Runs a start command with `env` (and the test secrets) and waits for it to exit; its code and output. */
const startFails = (command: string, env: Record<string, string>) =>
  startWith(command, { SESSION_SECRET, STEPUP_SECRET, ...env });

describe("the policy variables are checked at start-up", () => {
  const bad: [string, string][] = [
    ["STEPUP_POLICY", "SOMETIMES"],
    ["STEPUP_GRACE_DAYS", "-1"],
    ["STEPUP_GRACE_DAYS", "two"],
    ["STEPUP_TRUSTED_DAYS", "0"],
    ["STEPUP_TRUSTED_DAYS", "1e3"],
    ["STEPUP_SIGNIN", "yes please"],
  ];
  for (const [name, value] of bad) {
    it(`a typo cannot silently pick a level: ${name}=${value} stops the Express demo, naming ${name}`, async () => {
      const { code, output } = await startFails(DEMO_SERVER, { STEPUP_POLICY: "REQUIRED", [name]: value });
      expect(code, output).toBe(1);
      expect(output).toContain(name);
      expect(output).not.toContain("stepup demo on");
    });
  }

  it("the Next demo's start script refuses a bad STEPUP_POLICY the same way, before starting Next", async () => {
    const { code, output } = await startFails(NEXT_START, { STEPUP_POLICY: "sometimes maybe" });
    expect(code, output).toBe(1);
    expect(output).toContain("STEPUP_POLICY");
  });
});

describe("each STEPUP_POLICY level, for a user with only a password (Express demo processes)", () => {
  const expected: Record<string, number> = {
    DISABLED: 200,
    OPTIONAL: 200,
    "": 200,
    REQUIRED: 401,
    RISK_BASED: 401,
  };
  for (const [level, status] of Object.entries(expected)) {
    it(`${level || "unset (OPTIONAL)"}: GET /admin without a factor answers ${status}`, async () => {
      const demo = await spawnDemo({ STEPUP_POLICY: level, STEPUP_GRACE_DAYS: "", STEPUP_SIGNIN: "" });
      try {
        if (level === "") expect(demo.output()).toContain("policy: OPTIONAL");
        const b = new Browser();
        await signUp(b, demo.origin);
        const res = await b.get(demo.origin, "/admin");
        expect(res.status, res.text).toBe(status);
        // REQUIRED asks a user without a factor to add one; RISK_BASED does when a trigger fires
        // (a new browser here).
        if (status === 401) expect(challengeOf(res).enrollUrl).toBe("/stepup/console");
      } finally {
        await demo.stop();
      }
    });
  }

  it("STEPUP_GRACE_DAYS: a user without a factor passes with Stepup-Enroll-By, and a new login or browser does not move it", async () => {
    const demo = await spawnDemo({ STEPUP_POLICY: "REQUIRED", STEPUP_GRACE_DAYS: "7" });
    try {
      const b = new Browser();
      const account = await signUp(b, demo.origin);
      const first = await b.get(demo.origin, "/admin");
      expect(first.status, first.text).toBe(200);
      const deadline = first.headers.get("stepup-enroll-by");
      expect(deadline, "Stepup-Enroll-By").toBeTruthy();
      expect(Math.abs(Date.parse(String(deadline)) - (Date.now() + 7 * 86_400_000))).toBeLessThan(120_000);
      await b.post(demo.origin, "/logout");
      const other = new Browser();
      expect((await logIn(other, demo.origin, account)).status).toBe(200);
      const again = await other.get(demo.origin, "/api/export");
      expect(again.status).toBe(200);
      expect(again.headers.get("stepup-enroll-by")).toBe(deadline);
    } finally {
      await demo.stop();
    }
  });
});

describe("two demo processes on one Redis: revocations reach every process at once", () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    redis = await privateRedis();
    // Every step-up lasts one second: what passes after that is the trusted device.
    const env = { REDIS_URL: redis.server.url, SESSION_SECRET, STEPUP_SECRET, STEPUP_MAX_AGE: "1" };
    [a, b] = await Promise.all([spawnDemo(env), spawnDemo(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close();
  });

  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Sends a request; when stepup asks for a step-up first (its own actions), verifies and sends again. */
  async function withStepUp(browser: Browser, origin: string, account: Account, send: () => Promise<Reply>) {
    const res = await send();
    if (res.status !== 401 || res.json.error !== "step_up_required") return res;
    await verify(browser, origin, res.json, account);
    return send();
  }

  async function rememberedOnA(): Promise<{ browser: Browser; account: Account }> {
    const { b: browser, account } = await userWithTotp(a.origin, "mp-device");
    await stepUpAt(browser, a.origin, "/admin", account, { rememberDevice: true });
    expect(deviceCookieName(browser)).toBeDefined();
    await wait(1_500); // past STEPUP_MAX_AGE
    const onB = await browser.get(b.origin, "/admin");
    expect(onB.status, `the trusted device passes on B: ${onB.text}`).toBe(200);
    return { browser, account };
  }

  it("a revoked device stops working on every process: DELETE /stepup/api/devices/:id on A, and B challenges at once", async () => {
    const { browser, account } = await rememberedOnA();
    const listed = await browser.get(a.origin, "/stepup/api/devices");
    expect(listed.status, listed.text).toBe(200);
    const devices = listed.json.devices as { id: string }[];
    expect(devices).toHaveLength(1);
    const revoked = await withStepUp(browser, a.origin, account, () =>
      browser.request(a.origin, "DELETE", `/stepup/api/devices/${devices[0]?.id}`),
    );
    expect(revoked.status, revoked.text).toBeLessThan(300);
    await wait(1_100); // a step-up the revocation may have asked for ends too
    challengeOf(await browser.get(b.origin, "/admin"), "B after the revocation on A");
    challengeOf(await browser.get(b.origin, "/api/export"), "B after the revocation on A");
  });

  it("a credential change ends a trusted device at once on every process: POST /password on A, B challenges the next guarded request", async () => {
    const { browser, account } = await rememberedOnA();
    const changed = await browser.post(a.origin, "/password", {
      password: account.password,
      newPassword: "another good passphrase",
    });
    expect(changed.status, changed.text).toBe(200);
    challengeOf(await browser.get(b.origin, "/admin"), "B after the password change on A");
  });
});

describe("a credential change ends a fresh step-up at once on every process", () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    redis = await privateRedis();
    const env = { REDIS_URL: redis.server.url, SESSION_SECRET, STEPUP_SECRET };
    [a, b] = await Promise.all([spawnDemo(env), spawnDemo(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close();
  });

  it("verify on A, B opens /admin; POST /password on A; B challenges the next guarded request", async () => {
    const { b: browser, account } = await userWithTotp(a.origin, "mp-cred");
    await stepUpAt(browser, a.origin, "/admin", account);
    expect((await browser.get(b.origin, "/admin")).status).toBe(200);
    const changed = await browser.post(a.origin, "/password", {
      password: account.password,
      newPassword: "another good passphrase",
    });
    expect(changed.status, changed.text).toBe(200);
    challengeOf(await browser.get(b.origin, "/admin"), "B after the password change on A");
  });
});

describe("STEPUP_SIGNIN with an email code (the demo's SMTP_URL)", () => {
  let channels: Channels;
  let demo: DemoProcess;

  beforeAll(async () => {
    channels = await startChannels();
    demo = await spawnDemo({ ...channels.env, STEPUP_SIGNIN: "1" });
  });
  afterAll(async () => {
    await demo?.stop();
    await channels?.close();
  });

  it("a password alone meets the sign-in challenge; the emailed code then /login/complete signs in, once", async () => {
    const setup = new CodeClient(new Browser(), demo.origin, channels);
    const email = await setup.signUp("signin-email");
    await setup.enrollEmail(email);
    expect((await setup.b.post(demo.origin, "/logout")).status).toBe(200);

    const c = new CodeClient(new Browser(), demo.origin, channels);
    const login = await c.b.post(demo.origin, "/login", { email, password: PASSWORD });
    const challenge = challengeOf(login, "login");
    expect(challenge).toMatchObject({ resource: "session", action: "sign-in" });
    const id = String(challenge.challengeId);
    const mail = await c.sendEmail(id, email);
    const verified = await c.verify(id, "email", mail.code);
    expect(verified.status, verified.text).toBe(200);
    const done = await c.b.post(demo.origin, "/login/complete");
    expect(done.json).toMatchObject({ signedIn: true, email });
    expect((await c.b.post(demo.origin, "/login/complete")).status, "a second completion").toBe(401);
  });
});
