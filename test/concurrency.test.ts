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

beforeAll(async () => {
  redis = await privateRedis();
  demo = await startDemo({ store: redis.store });
  await redis.store.increment("warm-up", "script", 1); // load the Lua script before any burst
});

afterAll(async () => {
  await demo?.close();
  await redis?.close();
});

// Every request comes from 127.0.0.1: start each test with empty per-IP counters.
beforeEach(async () => {
  await redis.client.flushall();
});

async function enrolled(): Promise<{ agent: Agent; secret: string; userId: string; factorId: string }> {
  const agent = demo.agent();
  const signup = await agent.post("/signup").send({ email: uniqueEmail(), password: PASSWORD });
  expect(signup.status).toBe(201);
  const { secret, factorId } = await enrollTotp(agent);
  return { agent, secret, factorId, userId: String(signup.body.id) };
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
    expect(statuses(results)).toEqual([200, ...Array<number>(19).fill(400)]);
    for (const r of results.filter((x) => x.status === 400)) expectProblem(r, 400, "invalid_code");
    expect(results.filter((r) => setCookie(r, "stepup") !== undefined)).toHaveLength(1);
    expect((await agent.get("/api/export")).status).toBe(200);
  });

  it("50 concurrent wrong codes on one challenge: exactly 5 are evaluated, 45 get 429 with Retry-After", async () => {
    const { agent, secret } = await enrolled();
    const id = await openChallenge(agent);
    const bad = await wrongCode(secret);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(agent, id, bad)));
    const evaluated = results.filter((r) => r.status === 400);
    const refused = results.filter((r) => r.status === 429);
    expect(evaluated).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of evaluated)
      expect(expectProblem(r, 400, "invalid_code")).toMatchObject({ success: false });
    for (const r of refused) {
      expectProblem(r, 429, "too_many_attempts");
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
    }
    // The burst counted 50 times against the factor too: a fresh challenge refuses TOTP at once,
    // while the guard still offers the recovery codes (a factor with its own budget).
    const fresh = await verify(agent, await openChallenge(agent), await currentCode(secret));
    expectProblem(fresh, 429, "too_many_attempts");
    expectProblem(await agent.get("/api/export"), 401, "step_up_required");
    // And the right code is refused on this challenge.
    expect((await verify(agent, id, await currentCode(secret))).status).toBe(429);
  });

  it("20 wrong codes per factor over fresh challenges lock every factor: the guard answers 429, even the right code fails", async () => {
    const { agent, secret } = await enrolled();
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
    const { agent, secret, userId, factorId } = await enrolled();
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
