// Attack (or bad luck): a Redis outage in the middle of a step-up. Dropped connections, a stalled
// Redis, replies lost after the command ran (the write happened, stepup sees an error) and commands
// run after stepup gave up on them, hitting any store call of any request, while one or two users
// enrol TOTP, open challenges, verify with the right, a wrong or a replayed code, call a guarded
// route, log out and are revoked, some of it concurrently. stepup must fail closed: never a 5xx but
// 503 store_unavailable (problem+json, no stack, no driver error), never a pass without a verification
// of that session that answered success (and no logout or revocation since), never a TOTP time step
// accepted twice, and once the faults stop, a fresh step-up works again without a restart.
//
// A real redis-server (startRedisServer) and redisStore, wrapped in a fault injector
// (support/fault-store.ts); the HTTP layer (createStepUpHttp) driven in process with Fetch Requests,
// on a fake clock (one TOTP step per `tick`). STEPUP_FUZZ_RUNS sets the runs; a failure prints its
// seed and path: replay it with STEPUP_FUZZ_SEED=<seed> STEPUP_FUZZ_PATH=<path>.
import { StepUpError, totp } from "@stepup/core";
import { createStepUpHttp, type StepUpHttp } from "@stepup/http";
import { redisStore } from "@stepup/redis";
import { type RedisServer, startRedisServer } from "@stepup/testkit";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fault, type FaultPlan, type FaultStore, faultStore } from "./support/fault-store.js";
import { fuzzParams, fuzzTimeout } from "./support/fuzz.js";
import { FAST_FAIL, waitReady } from "./support/redis.js";
import { codeFor, STEP_MS, wrongCode } from "./support/totp.js";

const RUNS = 150;
/** The engine's deadline on a store call: hung calls answer 503 after this (kept short: hangs are rare). */
const STORE_TIMEOUT_MS = 100;
const ORIGIN = "http://localhost:3000";
const RULE = { resource: "data", action: "export" } as const;

// ---------------------------------------------------------------------------------------------
// Operations and schedules

type Op =
  | { kind: "enrol"; user: number }
  | { kind: "open"; user: number }
  | { kind: "verify"; user: number; code: "right" | "wrong" | "replay"; challenge: number }
  | { kind: "guard"; user: number }
  | { kind: "logout"; user: number; keepCopy: boolean }
  | { kind: "revokeUser"; user: number }
  | { kind: "tick" };

/** One step: one op alone, or 2-3 at once; with faults on, each request meets its own plan. */
interface Step {
  ops: Op[];
  faults: (readonly Fault[] | undefined)[];
}

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Fault>("pass") },
  { weight: 3, arbitrary: fc.constant<Fault>("throw") },
  { weight: 3, arbitrary: fc.constant<Fault>("applied-then-throw") },
  { weight: 1, arbitrary: fc.constant<Fault>("late") },
  { weight: 1, arbitrary: fc.constant<Fault>("hang") },
);
const planArb = fc.array(faultArb, { minLength: 1, maxLength: 8 });

function opArb(users: number): fc.Arbitrary<Op> {
  const user = fc.integer({ min: 0, max: users - 1 });
  return fc.oneof(
    { weight: 2, arbitrary: user.map((u): Op => ({ kind: "enrol", user: u })) },
    { weight: 3, arbitrary: user.map((u): Op => ({ kind: "open", user: u })) },
    {
      weight: 6,
      arbitrary: fc
        .record({
          user,
          code: fc.constantFrom("right", "right", "wrong", "replay"),
          challenge: fc.nat({ max: 3 }),
        })
        .map((v): Op => ({ kind: "verify", ...v })),
    },
    { weight: 4, arbitrary: user.map((u): Op => ({ kind: "guard", user: u })) },
    {
      weight: 1,
      arbitrary: fc.record({ user, keepCopy: fc.boolean() }).map((v): Op => ({ kind: "logout", ...v })),
    },
    { weight: 1, arbitrary: user.map((u): Op => ({ kind: "revokeUser", user: u })) },
  );
}

function stepArb(users: number): fc.Arbitrary<Step> {
  const ops = fc.oneof(
    { weight: 6, arbitrary: opArb(users).map((o) => [o]) },
    { weight: 1, arbitrary: fc.constant<Op[]>([{ kind: "tick" }]) },
    { weight: 3, arbitrary: fc.array(opArb(users), { minLength: 2, maxLength: 3 }) },
  );
  return fc
    .record({ ops, on: fc.boolean() })
    .chain(({ ops, on }) =>
      (on
        ? fc.array(fc.option(planArb, { nil: undefined }), { minLength: ops.length, maxLength: ops.length })
        : fc.constant(ops.map(() => undefined))
      ).map((faults): Step => ({ ops, faults })),
    );
}

const scenarioArb = fc.integer({ min: 1, max: 2 }).chain((users) =>
  fc.record({
    users: fc.constant(users),
    steps: fc.array(stepArb(users), { minLength: 1, maxLength: 14 }),
  }),
);

// ---------------------------------------------------------------------------------------------
// The world: one engine on the faulty store for all runs (recovery without a restart), a fake clock

let server: RedisServer;
let client: Redis;
let faulty: FaultStore;
let http: StepUpHttp;
let guard: ReturnType<StepUpHttp["guard"]>;
let nowMs = Date.now();
let runNo = 0;
/** What the engine logged as errors: a store failure is logged, anything else is looked at. */
const logged: string[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, FAST_FAIL);
  client.on("error", () => {});
  await waitReady(client, 10_000);
  faulty = faultStore(redisStore({ client }));
  http = createStepUpHttp({
    store: faulty.store,
    secret: "f".repeat(32),
    appName: "Acme",
    factors: [totp()],
    storeTimeoutMs: STORE_TIMEOUT_MS,
    clock: { now: () => nowMs },
    // Guessing limits are not what this fuzzes (real-time windows would span runs).
    limits: { perFactor: { max: 100_000, windowSeconds: 900 } },
    logger: {
      warn() {},
      error(message, meta) {
        logged.push(`${message} ${JSON.stringify(meta ?? {})}`);
      },
    },
  });
  guard = http.guard({ ...RULE, maxAge: 3600 });
}, 30_000);

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// One run: the users, their jars, and what the client side knows

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: Record<string, unknown>;
}

interface User {
  id: string;
  /** The step-up session cookie (`stepup=...`) this browser holds, if any. */
  cookie: string | undefined;
  /** Secrets of the enrolments started, by factor id, and the one confirmed. */
  secrets: Map<string, string>;
  confirmed: string | undefined;
  challenges: string[];
  /** Codes sent as "right" (with the step they are for), for replays. */
  sentCodes: { code: string; step: number }[];
  /** How many times each TOTP step was accepted (confirm or verify answered 200). */
  accepted: Map<number, number>;
}

/** A verification that answered 200: the cookie it issued, when (logical time). */
interface Grant {
  user: number;
  cookie: string;
  from: string | undefined;
  sent: number;
  done: number;
}

/** A logout or revocation that answered success. */
interface Ending {
  user: number;
  cookie?: string;
  sent: number;
  done: number;
}

class Run {
  users: User[] = [];
  grants: Grant[] = [];
  logouts: Ending[] = [];
  revocations: Ending[] = [];
  clock = 0;
  trace: string[] = [];

  constructor(count: number) {
    runNo++;
    // Each run's users are new, so its clock starts at the real time again: a clock carried on
    // from run to run (16 min of recovery each) would pass the cookie seals' own expiry (iron
    // stamps them with the real time) after ~84 runs, and every cookie would read as expired.
    nowMs = Date.now();
    for (let i = 0; i < count; i++)
      this.users.push({
        id: `faults-${process.pid}-${runNo}-${i}`,
        cookie: undefined,
        secrets: new Map(),
        confirmed: undefined,
        challenges: [],
        sentCodes: [],
        accepted: new Map(),
      });
  }

  stamp(): number {
    return ++this.clock;
  }

  user(i: number): User {
    const u = this.users[i];
    if (!u) throw new Error(`no user ${i}`);
    return u;
  }

  request(u: User, method: string, path: string, body?: unknown): Request {
    const headers: Record<string, string> = { accept: "application/json", origin: ORIGIN };
    if (u.cookie) headers.cookie = u.cookie;
    if (body !== undefined) headers["content-type"] = "application/json";
    return new Request(`${ORIGIN}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** Keeps the step-up cookie a response sets (a browser's jar); returns the one it set, if any. */
  keep(u: User, setCookies: readonly string[], keepCopy = false): string | undefined {
    let set: string | undefined;
    for (const line of setCookies) {
      const [pair = ""] = line.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      if (name !== "stepup") continue;
      const value = pair.slice(name.length + 1);
      if (value === "" || /max-age=0\b/i.test(line)) {
        if (!keepCopy) u.cookie = undefined;
      } else u.cookie = set = pair;
    }
    return set;
  }

  async answer(res: Response): Promise<Answer> {
    const text = await res.text();
    const contentType = res.headers.get("content-type") ?? "";
    let json: Record<string, unknown> = {};
    if (/json/.test(contentType) && text) json = JSON.parse(text) as Record<string, unknown>;
    return { status: res.status, contentType, text, json };
  }

  async call(
    u: User,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer & { setCookie?: string }> {
    const sentWith = u.cookie;
    const res = await http.handle(this.request(u, method, path, body), { user: { id: u.id } });
    const a = await this.answer(res);
    expectFailsClosed(`${method} ${path}`, a);
    const setCookie = this.keep(u, res.headers.getSetCookie());
    this.trace.push(
      `${method} ${path} (${sentWith ? "cookie" : "no cookie"}) -> ${a.status} ${a.json.error ?? ""}`,
    );
    return setCookie === undefined ? a : { ...a, setCookie };
  }

  /** A logout or revocation: its store failure must be StepUpError STORE_UNAVAILABLE, nothing else. */
  async engineCall(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      this.trace.push(`${what} -> ok`);
      return true;
    } catch (error) {
      this.trace.push(`${what} -> ${error instanceof StepUpError ? error.code : String(error)}`);
      expect(
        error instanceof StepUpError && error.code === "STORE_UNAVAILABLE",
        `${what} threw ${String(error)} (an app would answer 500)`,
      ).toBe(true);
      return false;
    }
  }

  async perform(op: Op, faults: boolean): Promise<void> {
    if (op.kind === "tick") {
      nowMs += STEP_MS;
      this.trace.push("tick");
      return;
    }
    const u = this.user(op.user);
    const step = Math.floor(nowMs / STEP_MS);
    const sent = this.stamp();
    switch (op.kind) {
      case "enrol": {
        const started = await this.call(u, "POST", "/stepup/api/factors/totp", {});
        if (started.status !== 201) return;
        const factorId = String(started.json.factorId);
        const secret = String(started.json.secret);
        u.secrets.set(factorId, secret);
        const code = await codeFor(secret, nowMs);
        const confirmed = await this.call(u, "POST", `/stepup/api/factors/totp/${factorId}/confirm`, {
          code,
        });
        if (confirmed.status === 200) {
          u.confirmed = factorId;
          this.accept(u, step, "enrolment confirmed");
        }
        return;
      }
      case "open": {
        const opened = await this.call(u, "POST", "/stepup/api/challenges", RULE);
        if (opened.status === 201) u.challenges.push(String(opened.json.challengeId));
        return;
      }
      case "verify": {
        const id = u.challenges[u.challenges.length - 1 - (op.challenge % Math.max(1, u.challenges.length))];
        if (id === undefined) return;
        const secret = u.secrets.get(u.confirmed ?? "") ?? [...u.secrets.values()].pop();
        if (secret === undefined) return;
        let code: string;
        let codeStep: number | undefined = step;
        const previous = u.sentCodes[op.challenge % Math.max(1, u.sentCodes.length)];
        if (op.code === "right" || (op.code === "replay" && previous === undefined)) {
          code = await codeFor(secret, nowMs);
          u.sentCodes.push({ code, step });
        } else if (op.code === "replay" && previous) {
          ({ code, step: codeStep } = previous);
        } else {
          code = await wrongCode(secret, nowMs);
          codeStep = undefined;
        }
        const cookie = u.cookie;
        const endedBefore = cookie !== undefined && this.ended(op.user, cookie, sent);
        const res = await this.call(u, "POST", `/stepup/api/challenges/${id}/verify`, {
          factor: "totp",
          code,
        });
        const done = this.stamp();
        if (res.status !== 200) return;
        expect(codeStep, `a wrong code was accepted: ${res.text}`).not.toBeUndefined();
        expect(endedBefore, "a signed-out session's challenge took a code").toBe(false);
        expect(res.setCookie, "a verification answered 200 without a new session cookie").toBeDefined();
        this.accept(u, codeStep ?? -1, `verify ${op.code}`);
        this.grants.push({ user: op.user, cookie: res.setCookie ?? "", from: cookie, sent, done });
        return;
      }
      case "guard": {
        const cookie = u.cookie;
        const request = new Request(`${ORIGIN}/export`, {
          headers: { accept: "application/json", ...(cookie ? { cookie } : {}) },
        });
        const outcome = await guard(request, { user: { id: u.id } });
        if (outcome.kind === "pass") {
          this.trace.push(`GET /export (${cookie ? "cookie" : "no cookie"}) -> PASS`);
          this.expectMayPass(op.user, cookie, sent);
          return;
        }
        const res = http.render(request, outcome);
        const a = await this.answer(res);
        expectFailsClosed("GET /export (guard)", a);
        this.keep(u, res.headers.getSetCookie());
        this.trace.push(
          `GET /export (${cookie ? "cookie" : "no cookie"}) -> ${a.status} ${a.json.error ?? ""}`,
        );
        if (!faults) expect(a.status, `guard without faults: ${a.text}`).not.toBe(503);
        return;
      }
      case "logout": {
        const cookie = u.cookie;
        const request = this.request(u, "POST", "/logout");
        let setCookie = "";
        const ok = await this.engineCall(
          `logout${op.keepCopy ? " (a copy of the cookie kept)" : ""}`,
          async () => {
            setCookie = await http.clear(request, u.id);
          },
        );
        if (!ok) return;
        this.keep(u, [setCookie], op.keepCopy);
        if (cookie !== undefined) this.logouts.push({ user: op.user, cookie, sent, done: this.stamp() });
        return;
      }
      case "revokeUser": {
        const ok = await this.engineCall("revokeUser", () => http.engine.revokeUser(u.id));
        if (ok) this.revocations.push({ user: op.user, sent, done: this.stamp() });
        return;
      }
    }
  }

  /** Property 3: a TOTP time step is accepted at most once per user. */
  accept(u: User, step: number, what: string): void {
    const times = (u.accepted.get(step) ?? 0) + 1;
    u.accepted.set(step, times);
    expect(times, `TOTP step ${step} of ${u.id} accepted ${times} times (last: ${what})`).toBe(1);
  }

  /**
   * Whether `cookie` was ended by a logout that answered success before `at`: the logout's own
   * session, or one rotated from it by a verification that started before the logout answered
   * (a logout wins over a verification racing it).
   */
  ended(user: number, cookie: string, at: number): boolean {
    for (const l of this.logouts) {
      if (l.user !== user || l.done >= at) continue;
      const ends = new Set([l.cookie]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const g of this.grants)
          if (
            g.user === user &&
            g.from !== undefined &&
            ends.has(g.from) &&
            !ends.has(g.cookie) &&
            g.sent < l.done
          ) {
            ends.add(g.cookie);
            grew = true;
          }
      }
      if (ends.has(cookie)) return true;
    }
    return false;
  }

  /** Property 2: a pass needs a verification of this session that answered 200, not ended since. */
  expectMayPass(user: number, cookie: string | undefined, sent: number): void {
    const grant = this.grants.find((g) => g.user === user && g.cookie === cookie);
    expect(grant, "the guard passed a session no verification answered success for").toBeDefined();
    if (!grant || cookie === undefined) return;
    expect(this.ended(user, cookie, sent), "the guard passed a session signed out before").toBe(false);
    const revoked = this.revocations.find((r) => r.user === user && r.sent > grant.done && r.done < sent);
    expect(revoked, "the guard passed a session verified before revokeUser answered").toBeUndefined();
  }

  /** Property 4: with the faults gone, every user steps up with a new code and the guard passes. */
  async recover(): Promise<void> {
    // Past every growing delay a run's wrong codes can cause (at most 15 min).
    nowMs += 16 * 60_000;
    for (const [i, u] of this.users.entries()) {
      this.trace.push(`recovery of user ${i}`);
      // A fresh browser: a kept copy of a signed-out session's cookie takes no code, by design.
      u.cookie = undefined;
      const listed = await this.call(u, "GET", "/stepup/api/factors");
      expect(listed.status, listed.text).toBe(200);
      const factors = (listed.json.factors as { id: string; type: string }[]).filter(
        (f) => f.type === "totp",
      );
      let secret = factors.map((f) => u.secrets.get(f.id)).find((s) => s !== undefined);
      expect(factors.length === 0 || secret !== undefined, `a factor nobody enrolled: ${listed.text}`).toBe(
        true,
      );
      if (secret === undefined) {
        const started = await this.call(u, "POST", "/stepup/api/factors/totp", {});
        expect(started.status, started.text).toBe(201);
        secret = String(started.json.secret);
        const confirm = async () =>
          this.call(u, "POST", `/stepup/api/factors/totp/${started.json.factorId}/confirm`, {
            code: await codeFor(secret as string, nowMs),
          });
        let confirmed = await confirm();
        if (confirmed.status === 401 && confirmed.json.action === "factor.add") {
          // A first-factor claim a half-failed confirmation could not release (its reply lost, or a
          // write after the proof failed) holds for its lease, 30 x storeTimeoutMs, in Redis time:
          // the user waits that out, no longer (the claim used to hold for 10 minutes).
          this.trace.push(`  user ${i}: a first-factor claim left by a failed confirmation, waited out`);
          await new Promise((r) => setTimeout(r, 30 * STORE_TIMEOUT_MS + 500));
          confirmed = await confirm();
        }
        expect(confirmed.status, confirmed.text).toBe(200);
      }
      nowMs += STEP_MS;
      const opened = await this.call(u, "POST", "/stepup/api/challenges", RULE);
      expect(opened.status, opened.text).toBe(201);
      const verified = await this.call(
        u,
        "POST",
        `/stepup/api/challenges/${opened.json.challengeId}/verify`,
        {
          factor: "totp",
          code: await codeFor(secret, nowMs),
        },
      );
      expect(verified.status, verified.text).toBe(200);
      const request = new Request(`${ORIGIN}/export`, {
        headers: u.cookie ? { accept: "application/json", cookie: u.cookie } : { accept: "application/json" },
      });
      const outcome = await guard(request, { user: { id: u.id } });
      expect(outcome.kind, "after the outage, a fresh step-up must pass the guard").toBe("pass");
    }
  }
}

/** Property 1: never a 5xx but 503 store_unavailable as problem+json, and nothing of the driver. */
function expectFailsClosed(what: string, a: Answer): void {
  if (a.status >= 500) {
    expect({ what, status: a.status, error: a.json.error }, a.text).toEqual({
      what,
      status: 503,
      error: "store_unavailable",
    });
    expect(a.contentType, what).toMatch(/^application\/problem\+json/);
  }
  expect(a.text, `${what}: a stack trace or the driver's error reached the client`).not.toMatch(
    /injected|InjectedFault|\n\s+at |Error:|ECONNRESET|TimeoutError/,
  );
}

// ---------------------------------------------------------------------------------------------

async function play(scenario: { users: number; steps: Step[] }): Promise<void> {
  const run = new Run(scenario.users);
  try {
    for (const step of scenario.steps) {
      const plans = step.faults.map((f): FaultPlan | undefined =>
        f ? { faults: f, next: 0, met: [] } : undefined,
      );
      const on = plans.some((p) => p !== undefined);
      await Promise.all(step.ops.map((op, i) => faulty.run(plans[i], () => run.perform(op, on))));
      for (const p of plans) if (p?.met.length) run.trace.push(`  faults met: ${p.met.join(", ")}`);
      // What Redis ran after stepup gave up lands before the next step.
      await faulty.applyLate();
    }
    await run.recover();
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\ntrace:\n${run.trace.join("\n")}`,
      {
        cause: error,
      },
    );
  }
}

describe("fuzzing Redis outages during step-ups", () => {
  it(
    "dropped, hung and half-applied store calls fail closed (503 only), never grant without a verification, never accept a TOTP step twice, and service resumes without a restart",
    async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, play), fuzzParams(RUNS));
      // A store failure is logged (an audit entry or event that could not be written); nothing else.
      const unexpected = logged.filter((l) => !/store unavailable|temporarily unavailable/i.test(l));
      expect(unexpected, "errors logged other than store failures").toEqual([]);
    },
    fuzzTimeout(RUNS, 1_000),
  );
});
