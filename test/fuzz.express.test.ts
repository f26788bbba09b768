// Attack: fuzzing every route of the Express demo (the JSON API, the pages, the static routes and
// the app's guarded routes) with generated requests: hostile path parameters, query strings,
// bodies of every shape and content type, Origin and Sec-Fetch variants, garbage and tampered
// cookies, Unicode everywhere. Signed in as a victim whose password the attacker has, as the
// attacker's own account (both with TOTP, neither code known to the attacker), or signed out.
// Every response: no 5xx, problem+json with a known code for API errors, no stack trace or
// secret, no unescaped input in a page, and what the OpenAPI document says for that operation.
// After every sequence: no grant (the guarded routes still ask for a step-up, status is not fresh,
// no verification event, no session with an assurance in the store).
//
// STEPUP_FUZZ_RUNS sets the runs (npm run fuzz: 2000); a failure prints its seed: replay it with
// STEPUP_FUZZ_SEED=<seed> STEPUP_FUZZ_PATH=<path>.
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { memoryStore, type StepUpEvent } from "@stepup/core";
import { createDemoApp } from "@stepup/example-express";
import { DEV_TOKEN_KEY, sendersFromEnv } from "@stepup/example-shared";
import type { OpenApiDocument } from "@stepup/http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET, uniqueEmail } from "./support/demo.js";
import {
  type CheckContext,
  checkDocumented,
  checkResponse,
  emptyPools,
  type FuzzResponse,
  fieldValuesOf,
  fuzzParams,
  fuzzString,
  fuzzTimeout,
  materialize,
  type Operation,
  operationsOf,
  type RawRequest,
  type RequestSpec,
  requestArb,
  XSS,
} from "./support/fuzz.js";
import {
  type Account,
  Client,
  enrollTotp,
  type FuzzWorld,
  fillPools,
  fuzzWorld,
  type GuardedRoute,
  guardedOperations,
  httpTarget,
  printStats,
  proofsNeverGrant,
  sendIn,
  spyStore,
} from "./support/fuzz-fixture.js";
import { openApiChecker } from "./support/openapi-check.js";

const SINGLE_RUNS = 500;
const SEQUENCE_RUNS = 150;
const PROOF_RUNS = 150;

/** The demo's guarded routes, called so that each would run for a fresh caller. */
const GUARDED: GuardedRoute[] = [
  { method: "GET", path: "/api/export" },
  { method: "GET", path: "/admin" },
  { method: "POST", path: "/account/delete", json: {} },
  { method: "POST", path: "/transfer", json: { amount: 5, to: "alice" } },
];
/** The same routes as operations to fuzz (they are the app's, not in stepup's document). */
const GUARDED_OPS = guardedOperations(GUARDED);
/** Real rule names and values the document cannot know (they are the app's). */
const HINTS = {
  resource: ["data", "admin", "account", "payment", "stepup", "session"],
  action: ["export", "read", "delete", "transfer", "factor.add", "sign-in"],
  limit: ["1", "50", "51", "0", "01"],
  amount: [5, "5", 1001, "12.50", -1, ["5"]],
  to: ["alice", "bob", "a".repeat(65)],
  // A well-formed code (never a valid one: valid codes are scrubbed out of every request).
  code: fc.stringMatching(/^[0-9]{6}$/),
  factor: ["totp", "recovery"],
};
const RULES = ["resource=data&action=export", "resource=admin&action=read", "resource=account&action=delete"];

/** The demo's sign-in routes (`STEPUP_SIGNIN=1`): fuzzed too, and they must never sign anyone in. */
const SIGN_IN_OPS: Operation[] = [
  {
    method: "POST",
    template: "/login/complete",
    segments: ["login", "complete"],
    query: [],
    fields: [],
    contentTypes: [],
  },
  {
    method: "GET",
    template: "/login/complete",
    segments: ["login", "complete"],
    query: ["returnTo"],
    fields: [],
    contentTypes: [],
  },
];

/** One fuzzed demo: its server, the world of its victim and attacker, what to generate and check. */
interface Fixture {
  server: Server;
  world: FuzzWorld;
  ops: Operation[];
  ctx: CheckContext;
  values: ReturnType<typeof fieldValuesOf>;
  emails: Map<Account, string>;
}

/**
 * Starts the demo (in process, over HTTP) with two users who each have TOTP: the victim, whose
 * password the attacker has, and the attacker's own account.
 */
async function fuzzDemo(
  policy: { signIn?: boolean } = {},
  hooks: Pick<Parameters<typeof fuzzWorld>[0], "onRun" | "alsoExpect"> = {},
): Promise<Fixture> {
  const store = spyStore(memoryStore());
  const events: StepUpEvent[] = [];
  const sent: string[] = [];
  // Email and SMS codes go nowhere the attacker can read; the test keeps them to scrub and to look for.
  const quiet = sendersFromEnv({}, (line) => {
    for (const m of line.matchAll(/\b(\d{6})\b/g)) if (m[1]) sent.push(m[1]);
  });
  const app = createDemoApp({
    store,
    sessionSecret: SESSION_SECRET,
    stepupSecret: STEPUP_SECRET,
    senders: quiet,
    ...(policy.signIn ? { policy: { signIn: true } } : {}),
    onEvent: (e) => {
      events.push(e);
    },
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const target = httpTarget(origin, "demo_session");
  const emails = new Map<Account, string>();

  const account = async (): Promise<Account> => {
    const client = new Client(target);
    const email = uniqueEmail("fuzz");
    const signedUp = await client.call("POST", "/signup", { json: { email, password: PASSWORD } });
    expect(signedUp.status, signedUp.text).toBe(201);
    const session = client.jar.get("demo_session") ?? "";
    client.jar.delete("demo_session");
    client.appSession = session;
    const { secret, recoveryCodes } = await enrollTotp(client);
    const created = { id: String(signedUp.json.id), session, secret, recoveryCodes, client };
    emails.set(created, email);
    return created;
  };

  const doc = (await new Client(target).call("GET", "/stepup/openapi.json"))
    .json as unknown as OpenApiDocument;
  const ops = [...operationsOf(doc), ...GUARDED_OPS, ...(policy.signIn ? SIGN_IN_OPS : [])];
  const victim = await account();
  const attacker = await account();
  const pools = emptyPools();
  await fillPools(pools, [victim, attacker], GUARDED);
  const keyBody = DEV_TOKEN_KEY.split("\n")[1] ?? DEV_TOKEN_KEY;
  const secrets = [
    SESSION_SECRET,
    STEPUP_SECRET,
    keyBody,
    ...[victim, attacker].flatMap((a) => [a.secret, ...a.recoveryCodes]),
  ];
  const world = fuzzWorld({
    target,
    accounts: { victim, attacker },
    store,
    events,
    pools,
    guarded: GUARDED,
    rules: RULES,
    secrets,
    sentCodes: () => sent,
    stepupSecret: STEPUP_SECRET,
    ...hooks,
  });
  const ctx: CheckContext = {
    basePath: "/stepup",
    secrets,
    checker: await openApiChecker(doc),
    guarded: new Set(GUARDED_OPS.map((o) => `${o.method} ${o.template}`)),
  };
  return { server, world, ops, ctx, values: fieldValuesOf(doc, HINTS), emails };
}

async function stop(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  f.server.closeAllConnections();
  await new Promise<void>((resolve) => f.server.close(() => resolve()));
}

/** Sends a sequence of generated requests in a fresh run, checking every response. */
async function runSequence(
  f: Fixture,
  specs: readonly RequestSpec[],
  each?: (req: RawRequest, res: FuzzResponse) => void,
): Promise<void> {
  await f.world.startRun();
  for (const spec of specs) {
    const req = await materialize(spec, f.world);
    const res = await sendIn(f.world, spec.identity, req);
    checkResponse(req, res, f.ctx);
    each?.(req, res);
  }
  await f.world.expectNoGrant();
}

let f: Fixture;
let world: FuzzWorld;
let ops: Operation[];
let ctx: CheckContext;
let values: ReturnType<typeof fieldValuesOf>;

beforeAll(async () => {
  f = await fuzzDemo();
  ({ world, ops, ctx, values } = f);
}, 60_000);

afterAll(async () => {
  printStats();
  await stop(f);
});

describe("fuzzing the Express demo", () => {
  it("enumerates every documented operation", () => {
    // The document lists the API, the pages and the static routes: they are all fuzzed.
    const documented = ops.filter((o) => o.template.startsWith("/stepup/"));
    expect(documented.length).toBeGreaterThanOrEqual(30);
    for (const area of ["/stepup/api/", "/stepup/challenge/", "/stepup/console", "/stepup/assets/"])
      expect(
        documented.some((o) => o.template.startsWith(area)),
        area,
      ).toBe(true);
  });

  it(
    "one request to any operation: no 5xx, problem+json API errors, no leak, no unescaped input, as documented",
    async () => {
      const arb = requestArb(ops, { appCookie: "demo_session", raw: true, values });
      await fc.assert(
        fc.asyncProperty(arb, async (spec) => {
          await world.startRun();
          const req = await materialize(spec, world);
          const res = await sendIn(world, spec.identity, req);
          checkResponse(req, res, ctx);
          checkDocumented(req, res, ctx, spec);
          await world.expectNothingGranted();
        }),
        fuzzParams(SINGLE_RUNS),
      );
      await world.expectNoGrant();
    },
    fuzzTimeout(SINGLE_RUNS, 15),
  );

  it(
    "sequences of requests by someone who knows no code never grant a step-up",
    async () => {
      const arb = fc.array(requestArb(ops, { appCookie: "demo_session", raw: true, values }), {
        minLength: 1,
        maxLength: 10,
      });
      await fc.assert(
        fc.asyncProperty(arb, async (specs) => {
          await runSequence(f, specs);
        }),
        fuzzParams(SEQUENCE_RUNS),
      );
    },
    fuzzTimeout(SEQUENCE_RUNS, 150),
  );

  it(
    "proofs to the caller's own challenge, in valid requests, with anything but the right code, never grant",
    () => proofsNeverGrant(world, values, ctx, PROOF_RUNS),
    fuzzTimeout(PROOF_RUNS, 60),
  );

  it(
    "whatever a factor is named, the console and the challenge page show it escaped",
    async () => {
      const { victim } = world.accounts;
      await world.startRun();
      // The victim's authenticator app (its own factors, listed first) and a challenge of its browser.
      const listed = await victim.client.call("GET", "/stepup/api/factors");
      const factors = listed.json.factors as { id: string; type: string }[];
      const factorId = factors.find((f) => f.type === "totp")?.id ?? "";
      expect(factorId, listed.text).not.toBe("");
      const challengeId = world.own.victim.challenge?.[0] ?? "";
      const name = fc.oneof(
        fuzzString,
        fc.constantFrom(...XSS),
        fc.tuple(fc.constantFrom(...XSS), fuzzString).map(([x, s]) => (x + s).slice(0, 64)),
      );
      await fc.assert(
        fc.asyncProperty(name, async (value) => {
          const client = victim.client;
          const renamed = await client.call("PATCH", `/stepup/api/factors/${factorId}`, {
            json: { name: value },
          });
          expect([200, 400], renamed.text).toContain(renamed.status);
          for (const path of ["/stepup/console", `/stepup/challenge/${challengeId}`]) {
            const page = await client.call("GET", path, { accept: "text/html" });
            checkResponse({ method: "GET", target: path, headers: [["accept", "text/html"]] }, page, ctx);
          }
        }),
        fuzzParams(SINGLE_RUNS / 5),
      );
    },
    fuzzTimeout(SINGLE_RUNS / 5, 20),
  );
});

describe("fuzzing the Express demo's sign-in second factor (STEPUP_SIGNIN=1)", () => {
  // The attacker has the victim's password, not their code: each run, a new browser logs in and
  // holds a pending sign-in (the sign-in cookie and its challenge), then sends the generated
  // requests with no app session. The sign-in must never complete.
  let s: Fixture | undefined;
  const complete = (path: string) => /^\/login\/complete(\?|$)/.test(path);

  beforeAll(async () => {
    s = await fuzzDemo(
      { signIn: true },
      {
        async onRun(w) {
          const browser = new Client(w.target);
          const email = s?.emails.get(w.accounts.victim) ?? "";
          const login = await browser.call("POST", "/login", { json: { email, password: PASSWORD } });
          expect({ status: login.status, error: login.json.error }, login.text).toEqual({
            status: 401,
            error: "step_up_required",
          });
          for (const [k, v] of browser.jar) w.jars.none.set(k, v);
          const id = login.json.challengeId;
          if (typeof id === "string") w.own.victim = { ...w.own.victim, challenge: [id] };
        },
        async alsoExpect(w) {
          const browser = new Client(w.target);
          for (const [k, v] of w.jars.none) browser.jar.set(k, v);
          const done = await browser.call("POST", "/login/complete", { json: {} });
          expect({ status: done.status, error: done.json.error }, done.text).toEqual({
            status: 401,
            error: "sign_in_incomplete",
          });
          const guarded = await browser.call("GET", "/api/export");
          expect({ status: guarded.status, error: guarded.json.error }, guarded.text).toEqual({
            status: 401,
            error: "unauthenticated",
          });
          expect(browser.jar.has("demo_session"), "signed in").toBe(false);
        },
      },
    );
  }, 60_000);

  afterAll(async () => {
    await stop(s);
  });

  it(
    "sequences of requests with a pending sign-in and no code never sign in, nor grant a step-up",
    async () => {
      if (!s) throw new Error("no fixture");
      const fixture = s;
      const arb = fc.array(
        requestArb(fixture.ops, {
          appCookie: "demo_session",
          raw: true,
          values: fixture.values,
          identities: ["none", "none", "none", "garbage", "victim"],
        }),
        { minLength: 1, maxLength: 10 },
      );
      await fc.assert(
        fc.asyncProperty(arb, async (specs) => {
          await runSequence(fixture, specs, (req, res) => {
            // (OPTIONS is Express's own answer listing the methods, not the route.)
            if (complete(req.target) && req.method !== "OPTIONS")
              expect(res.status, `signed in: ${res.status} ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(
                400,
              );
            expect(
              res.headers.getSetCookie().some((c) => c.startsWith("demo_session=") && !/max-age=0/i.test(c)),
            ).toBe(false);
          });
        }),
        fuzzParams(SEQUENCE_RUNS),
      );
    },
    fuzzTimeout(SEQUENCE_RUNS, 150),
  );
});
