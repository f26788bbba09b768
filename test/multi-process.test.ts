// Attack: playing two processes of one deployment against each other: replaying on process B a
// one-time code already accepted on A, or keeping a step-up alive on B after logging out on A.
// Two real demo server processes (examples/express/dist/server.js) share one private Redis.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET, uniqueEmail } from "./support/demo.js";
import { Browser, DEMO_SERVER, type DemoProcess, spawnDemo, supervise } from "./support/process.js";
import { privateRedis } from "./support/redis.js";
import { awayFromStepBoundary, codeFor, STEP_MS } from "./support/totp.js";

let redis: Awaited<ReturnType<typeof privateRedis>>;
let a: DemoProcess;
let b: DemoProcess;

beforeAll(async () => {
  redis = await privateRedis();
  // REQUIRED: a user without a factor is asked too (the demo's default, OPTIONAL, lets them pass).
  const env = { REDIS_URL: redis.server.url, SESSION_SECRET, STEPUP_SECRET, STEPUP_POLICY: "REQUIRED" };
  [a, b] = await Promise.all([spawnDemo(env), spawnDemo(env)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.close();
});

describe("two demo processes sharing one Redis", () => {
  it("a step-up on A holds on B; A's code is refused on B; logout on A ends it on B", async () => {
    const browser = new Browser();
    const email = uniqueEmail("mp");
    expect((await browser.post(a.origin, "/signup", { email, password: PASSWORD })).status).toBe(201);
    expect((await browser.get(b.origin, "/api/export")).json.error, "B knows the session").toBe(
      "step_up_required",
    );

    await awayFromStepBoundary();
    const started = await browser.post(a.origin, "/stepup/api/factors/totp");
    expect(started.status, started.text).toBe(201);
    const { factorId, secret } = started.json as { factorId: string; secret: string };
    const enrollCode = await codeFor(secret, Date.now() - STEP_MS);
    const confirmed = await browser.post(a.origin, `/stepup/api/factors/totp/${factorId}/confirm`, {
      code: enrollCode,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    // The factor enrolled on A is listed by B.
    const listed = await browser.get(b.origin, "/stepup/api/factors");
    expect(listed.json.factors).toEqual([expect.objectContaining({ id: factorId, type: "totp" })]);

    // The enrollment code's step is spent everywhere: B refuses it for a verification.
    const opened = await browser.post(b.origin, "/stepup/api/challenges", {
      resource: "data",
      action: "export",
    });
    expect(opened.status).toBe(201);
    const stale = await browser.post(b.origin, `/stepup/api/challenges/${opened.json.challengeId}/verify`, {
      factor: "totp",
      code: enrollCode,
    });
    expect(stale.status, stale.text).toBe(400);
    expect(stale.json.error).toBe("invalid_code");

    // Step up on A.
    const onA = await browser.post(a.origin, "/stepup/api/challenges", {
      resource: "data",
      action: "export",
    });
    const code = await codeFor(secret, Date.now());
    const ok = await browser.post(a.origin, `/stepup/api/challenges/${onA.json.challengeId}/verify`, {
      factor: "totp",
      code,
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await browser.get(a.origin, "/api/export")).status).toBe(200);
    const onB = await browser.get(b.origin, "/api/export");
    expect(onB.status, onB.text).toBe(200);
    expect(onB.json.user).toBe(email);

    // Replay across processes: the code A just accepted is refused on B.
    const bChallenge = await browser.post(b.origin, "/stepup/api/challenges", {
      resource: "admin",
      action: "read",
    });
    expect(bChallenge.status).toBe(201);
    const replay = await browser.post(
      b.origin,
      `/stepup/api/challenges/${bChallenge.json.challengeId}/verify`,
      { factor: "totp", code },
    );
    expect(replay.status, replay.text).toBe(400);
    expect(replay.json.error).toBe("invalid_code");

    // Logout on A; the very same cookies replayed on B no longer grant anything.
    const before = browser.clone();
    expect((await browser.post(a.origin, "/logout")).status).toBe(200);
    expect(browser.jar.has("stepup")).toBe(false);
    const afterLogout = await before.get(b.origin, "/api/export");
    expect(afterLogout.status, afterLogout.text).toBe(401);
    expect(afterLogout.json.error).toBe("step_up_required");
    const status = await before.get(b.origin, "/stepup/api/status?resource=data&action=export");
    expect(status.json).toMatchObject({ fresh: false });
  });

  it("a challenge opened on A is completed on B by the same browser (one shared store, no sticky sessions)", async () => {
    const browser = new Browser();
    expect(
      (await browser.post(b.origin, "/signup", { email: uniqueEmail("mp2"), password: PASSWORD })).status,
    ).toBe(201);
    await awayFromStepBoundary();
    const started = await browser.post(b.origin, "/stepup/api/factors/totp");
    const { factorId, secret } = started.json as { factorId: string; secret: string };
    const confirm = { code: await codeFor(secret, Date.now() - STEP_MS) };
    expect(
      (await browser.post(b.origin, `/stepup/api/factors/totp/${factorId}/confirm`, confirm)).status,
    ).toBe(200);
    const guarded = await browser.get(a.origin, "/api/export");
    expect(guarded.json.error).toBe("step_up_required");
    const code = await codeFor(secret, Date.now());
    const ok = await browser.post(b.origin, `/stepup/api/challenges/${guarded.json.challengeId}/verify`, {
      factor: "totp",
      code,
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await browser.get(a.origin, "/api/export")).status).toBe(200);
  });
});

describe("the demo process", () => {
  it("exits with an error naming the port when the port is taken (it used to keep running unbound)", async () => {
    const blocker = createServer();
    blocker.listen(0, "::");
    await once(blocker, "listening");
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [DEMO_SERVER], {
        env: { ...process.env, NODE_ENV: "test", PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const supervised = supervise(child);
      const [code] = (await Promise.race([
        once(child, "exit"),
        new Promise((_, reject) => setTimeout(() => reject(new Error("still running after 10 s")), 10_000)),
      ])) as [number | null];
      expect(code).toBe(1);
      expect(supervised.output()).toMatch(new RegExp(`port ${port} is already in use`));
      expect(supervised.output()).not.toContain("stepup demo on");
    } finally {
      blocker.close();
    }
  });
});
