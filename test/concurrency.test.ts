// Attack: racing the server with parallel requests: the same one-time code submitted many times at
// once (to several challenges), and bursts of guesses meant to slip past the attempt counters before
// they are written. Real Redis, the demo app over HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Agent,
  currentCode,
  type Demo,
  enrollTotp,
  expectProblem,
  openChallenge,
  PASSWORD,
  type Res,
  setCookie,
  startDemo,
  stepUp,
  uniqueEmail,
  verify,
  verifyRecovery,
} from "./support/demo.js";
import { privateRedis } from "./support/redis.js";
import { wrongCode } from "./support/totp.js";

let redis: Awaited<ReturnType<typeof privateRedis>>;
let demo: Demo;
/** The same app with growing delays off, to look at the per-factor window alone. */
let windowed: Demo;
/** The same app with a consecutive-failure cap of 10, to reach the hard lock in one burst. */
let capped: Demo;

beforeAll(async () => {
  redis = await privateRedis();
  demo = await startDemo({ store: redis.store });
  windowed = await startDemo({ store: redis.store, limits: { lockout: { delayAfter: 100 } } });
  capped = await startDemo({
    store: redis.store,
    limits: { perFactor: { max: 100, windowSeconds: 900 }, lockout: { maxFailures: 10, delayAfter: 10 } },
  });
  await redis.store.increment("warm-up", "script", 1); // load the Lua script before any burst
});

afterAll(async () => {
  await demo?.close();
  await windowed?.close();
  await capped?.close();
  await redis?.close();
});

// Every request comes from 127.0.0.1: start each test with empty per-IP counters.
beforeEach(async () => {
  await redis.client.flushall();
});

async function enrolled(
  app: Demo = demo,
): Promise<{ agent: Agent; secret: string; userId: string; factorId: string; recoveryCodes: string[] }> {
  const agent = app.agent();
  const signup = await agent.post("/signup").send({ email: uniqueEmail(), password: PASSWORD });
  expect(signup.status).toBe(201);
  const { secret, factorId, recoveryCodes } = await enrollTotp(agent);
  return { agent, secret, factorId, recoveryCodes, userId: String(signup.body.id) };
}

/** 20 wrong codes over 4 fresh challenges: the per-factor budget (20 per 15 min) is spent. */
async function spendFactorBudget(agent: Agent, secret: string): Promise<Res[]> {
  const bad = await wrongCode(secret);
  const results: Res[] = [];
  for (let c = 0; c < 4; c++) {
    const id = await openChallenge(agent);
    results.push(...(await Promise.all(Array.from({ length: 5 }, () => verify(agent, id, bad)))));
  }
  return results;
}

/** The same for the user's recovery codes: with both locked the user has no way in for now. */
async function spendRecoveryBudget(agent: Agent): Promise<Res[]> {
  const results: Res[] = [];
  for (let c = 0; c < 4; c++) {
    const id = await openChallenge(agent);
    for (let i = 0; i < 5; i++) results.push(await verifyRecovery(agent, id, `ZZZZ-ZZZZ-ZZZZ-ZZZ${i}`));
  }
  return results;
}

const statuses = (results: Res[]) => results.map((r) => r.status).sort();

describe("concurrency against real Redis", () => {
  it("one valid code sent to 20 challenges at once is accepted exactly once", async () => {
    const { agent, secret } = await enrolled();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await openChallenge(agent));
    const code = await currentCode(secret);
    const results = await Promise.all(ids.map((id) => verify(agent, id, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The others are replays: refused as a wrong code, or (once 10 have failed, which a burst can
    // reach while it runs) held back by the growing delay. Never a second success.
    for (const r of results.filter((x) => x.status !== 200)) {
      if (r.status === 400) expectProblem(r, 400, "invalid_code");
      else expectProblem(r, 429, "too_many_attempts");
    }
    expect(results.filter((r) => setCookie(r, "stepup") !== undefined)).toHaveLength(1);
    expect((await agent.get("/api/export")).status).toBe(200);
  });

  it("50 concurrent wrong codes on one challenge: exactly 5 are evaluated; the spent challenge is not a lockout", async () => {
    const { agent, secret } = await enrolled();
    const id = await openChallenge(agent);
    const bad = await wrongCode(secret);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(agent, id, bad)));
    const evaluated = results.filter((r) => r.status === 400);
    expect(evaluated).toHaveLength(5);
    for (const r of evaluated)
      expect(expectProblem(r, 400, "invalid_code")).toMatchObject({ success: false });
    // The rest: this challenge is spent (429 challenge_exhausted, nothing to wait for), or already
    // gone (404) for the ones that arrive after it was dropped.
    for (const r of results.filter((x) => x.status !== 400)) {
      expect([429, 404]).toContain(r.status);
      if (r.status === 429) expectProblem(r, 429, "challenge_exhausted");
      expect(r.headers["retry-after"]).toBeUndefined();
    }
    // Only 5 guesses reached the user's budget: a new challenge with the right code works at once.
    const fresh = await verify(agent, await openChallenge(agent), await currentCode(secret));
    expect(fresh.status, fresh.text).toBe(200);
  });

  it("past 10 consecutive failures, a burst of 20 guesses gets one evaluation per delay", async () => {
    const { agent, secret, userId } = await enrolled();
    const bad = await wrongCode(secret);
    for (let c = 0; c < 2; c++) {
      const id = await openChallenge(agent);
      for (let i = 0; i < 5; i++) expectProblem(await verify(agent, id, bad), 400, "invalid_code");
    }
    // The 10th failure set a 2 s delay; let it pass (in Redis, not by sleeping).
    await redis.client.del(`stepup:{${userId}}:throttle`);
    const ids = await Promise.all(Array.from({ length: 4 }, () => openChallenge(agent)));
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => verify(agent, ids[i % 4] ?? "", bad)),
    );
    expect(burst.filter((r) => r.status === 400)).toHaveLength(1);
    for (const r of burst.filter((x) => x.status !== 400)) {
      expectProblem(r, 429, "too_many_attempts");
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
    }
    // Even the right code waits out the delay (it is a delay, not a lock).
    const right = await verify(agent, await openChallenge(agent), await currentCode(secret));
    expectProblem(right, 429, "too_many_attempts");
    await redis.client.del(`stepup:{${userId}}:throttle`);
    expect((await verify(agent, await openChallenge(agent), await currentCode(secret))).status).toBe(200);
  });

  it("30 concurrent guesses at a cap of 10: exactly 10 evaluated, the user locked once; a recovery code ends it", async () => {
    const { agent, secret, recoveryCodes } = await enrolled(capped);
    const bad = await wrongCode(secret);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await openChallenge(agent)); // one step-up session
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => verify(agent, ids[i % 6] ?? "", bad)),
    );
    expect(results.filter((r) => r.status === 400)).toHaveLength(9);
    const locked = results.filter((r) => r.status === 429);
    expect(locked).toHaveLength(21);
    for (const r of locked) expectProblem(r, 429, "user_locked");
    // The guard offers only the recovery path; the right TOTP code is refused.
    const guarded = expectProblem(await agent.get("/api/export"), 401, "step_up_required");
    expect((guarded.factors as { type: string }[]).map((f) => f.type)).toEqual(["recovery"]);
    expectProblem(
      await verify(agent, String(guarded.challengeId), await currentCode(secret)),
      429,
      "user_locked",
    );
    const recovered = await verifyRecovery(agent, String(guarded.challengeId), recoveryCodes[0] ?? "");
    expect(recovered.status, recovered.text).toBe(200);
    expect((await agent.get("/api/export")).status).toBe(200);
  });

  it("20 wrong codes per factor over fresh challenges lock every factor: the guard answers 429, even the right code fails", async () => {
    const { agent, secret } = await enrolled(windowed);
    const results = await spendFactorBudget(agent, secret);
    expect(statuses(results)).toEqual(Array<number>(20).fill(400));
    expectProblem(await agent.get("/api/export"), 401, "step_up_required"); // recovery codes still open
    expect(statuses(await spendRecoveryBudget(agent))).toEqual(Array<number>(20).fill(400));
    const guarded = await agent.get("/api/export");
    expectProblem(guarded, 429, "too_many_attempts");
    expect(Number(guarded.headers["retry-after"])).toBeGreaterThan(0);
    const html = await agent.get("/admin").set("accept", "text/html");
    expect(html.status).toBe(429);
    expect(html.text).not.toContain("Admin panel");
    const fresh = await openChallenge(agent);
    const right = await verify(agent, fresh, await currentCode(secret));
    expectProblem(right, 429, "too_many_attempts");
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect((await agent.get("/stepup/api/status?resource=data&action=export")).body).toMatchObject({
      fresh: false,
    });
  });

  it("Retry-After from a locked guard says when the lock really ends, not a full new window", async () => {
    const { agent, secret, userId, factorId } = await enrolled(windowed);
    expect(statuses(await spendFactorBudget(agent, secret))).toEqual(Array<number>(20).fill(400));
    expect(statuses(await spendRecoveryBudget(agent))).toEqual(Array<number>(20).fill(400));
    // Pretend the TOTP lock's 15-minute window is nearly over: 30 s of it are left (the counter's
    // TTL, and the lock mark that records when it ends).
    const key = `stepup:{${userId}}:attempts:factor:${factorId}`;
    expect(await redis.client.expire(key, 30)).toBe(1);
    const mark = `stepup:{${userId}}:locked:factor:${factorId}`;
    expect(await redis.client.set(mark, String(Date.now() + 30_000), "EX", 30)).toBe("OK");
    const refused = await verify(agent, await openChallenge(agent), await currentCode(secret));
    expectProblem(refused, 429, "too_many_attempts");
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(30);
    const guarded = await agent.get("/api/export");
    expectProblem(guarded, 429, "too_many_attempts");
    expect(Number(guarded.headers["retry-after"]), "guard Retry-After").toBeLessThanOrEqual(30);
  });

  it("a transfer double-submitted 10 times at once after one verification runs exactly once", async () => {
    const { agent, secret } = await enrolled();
    const transfer = { amount: "250", to: "carol" };
    const first = await agent.post("/transfer").send(transfer);
    const { challengeId } = expectProblem(first, 401, "step_up_required");
    await verify(agent, String(challengeId), await currentCode(secret)).expect(200);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => agent.post("/transfer").send(transfer)),
    );
    expect(statuses(results)).toEqual([200, ...Array<number>(9).fill(401)]);
    for (const r of results.filter((x) => x.status === 401)) expectProblem(r, 401, "step_up_required");
  });

  it("a session step-up used by 50 parallel requests lets every one through (no lost grant under load)", async () => {
    const { agent, secret } = await enrolled();
    await stepUp(agent, secret);
    const results = await Promise.all(Array.from({ length: 50 }, () => agent.get("/api/export")));
    expect(statuses(results)).toEqual(Array<number>(50).fill(200));
  });
});
