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
  fieldValuesOf,
  fuzzParams,
  fuzzString,
  fuzzTimeout,
  materialize,
  type Operation,
  operationsOf,
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
  httpTarget,
  printStats,
  sendIn,
  spyStore,
} from "./support/fuzz-fixture.js";
import { openApiChecker } from "./support/openapi-check.js";

const SINGLE_RUNS = 500;
const SEQUENCE_RUNS = 150;

/** The demo's guarded routes, called so that each would run for a fresh caller. */
const GUARDED: GuardedRoute[] = [
  { method: "GET", path: "/api/export" },
  { method: "GET", path: "/admin" },
  { method: "POST", path: "/account/delete", json: {} },
  { method: "POST", path: "/transfer", json: { amount: 5, to: "alice" } },
];
/** The same routes as operations to fuzz (they are the app's, not in stepup's document). */
const GUARDED_OPS: Operation[] = [
  {
    method: "GET",
    template: "/api/export",
    segments: ["api", "export"],
    query: [],
    fields: [],
    contentTypes: [],
  },
  { method: "GET", template: "/admin", segments: ["admin"], query: [], fields: [], contentTypes: [] },
  {
    method: "POST",
    template: "/account/delete",
    segments: ["account", "delete"],
    query: [],
    fields: [],
    contentTypes: ["application/json", "application/x-www-form-urlencoded"],
  },
  {
    method: "POST",
    template: "/transfer",
    segments: ["transfer"],
    query: [],
    fields: ["amount", "to"],
    contentTypes: ["application/json", "application/x-www-form-urlencoded"],
  },
];
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

let server: Server;
let world: FuzzWorld;
let ops: Operation[];
let ctx: CheckContext;
let values: ReturnType<typeof fieldValuesOf>;
const sent: string[] = [];

async function account(target: ReturnType<typeof httpTarget>): Promise<Account> {
  const client = new Client(target);
  const signedUp = await client.call("POST", "/signup", {
    json: { email: uniqueEmail("fuzz"), password: PASSWORD },
  });
  expect(signedUp.status, signedUp.text).toBe(201);
  const session = client.jar.get("demo_session") ?? "";
  client.jar.delete("demo_session");
  client.appSession = session;
  const { secret, recoveryCodes } = await enrollTotp(client);
  return { id: String(signedUp.json.id), session, secret, recoveryCodes, client };
}

beforeAll(async () => {
  const store = spyStore(memoryStore());
  const events: StepUpEvent[] = [];
  // Email and SMS codes go nowhere the attacker can read; the test keeps them to scrub and to look for.
  const quiet = sendersFromEnv({}, (line) => {
    for (const m of line.matchAll(/\b(\d{6})\b/g)) if (m[1]) sent.push(m[1]);
  });
  const app = createDemoApp({
    store,
    sessionSecret: SESSION_SECRET,
    stepupSecret: STEPUP_SECRET,
    senders: quiet,
    onEvent: (e) => {
      events.push(e);
    },
  });
  server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const target = httpTarget(origin, "demo_session");

  const doc = (await new Client(target).call("GET", "/stepup/openapi.json"))
    .json as unknown as OpenApiDocument;
  ops = [...operationsOf(doc), ...GUARDED_OPS];
  values = fieldValuesOf(doc, HINTS);
  const victim = await account(target);
  const attacker = await account(target);
  const pools = emptyPools();
  await fillPools(pools, [victim, attacker], GUARDED);
  const keyBody = DEV_TOKEN_KEY.split("\n")[1] ?? DEV_TOKEN_KEY;
  const secrets = [
    SESSION_SECRET,
    STEPUP_SECRET,
    keyBody,
    ...[victim, attacker].flatMap((a) => [a.secret, ...a.recoveryCodes]),
  ];
  world = fuzzWorld({
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
  });
  ctx = {
    basePath: "/stepup",
    secrets,
    checker: await openApiChecker(doc),
    guarded: new Set(GUARDED_OPS.map((o) => `${o.method} ${o.template}`)),
  };
}, 60_000);

afterAll(async () => {
  printStats();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
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
          const t0 = performance.now();
          await world.startRun();
          for (const spec of specs) {
            const req = await materialize(spec, world);
            const res = await sendIn(world, spec.identity, req);
            checkResponse(req, res, ctx);
          }
          const t1 = performance.now();
          await world.expectNoGrant();
          if (process.env.STEPUP_FUZZ_SLOW)
            console.log(
              `run: ${specs.length} requests ${Math.round(t1 - t0)} ms, check ${Math.round(performance.now() - t1)} ms`,
            );
        }),
        fuzzParams(SEQUENCE_RUNS),
      );
    },
    fuzzTimeout(SEQUENCE_RUNS, 150),
  );

  it(
    "whatever a factor is named, the console and the challenge page show it escaped",
    async () => {
      const { victim } = world.accounts;
      const factorId = world.pools.factor[0] ?? "";
      const challengeId = world.pools.challenge[0] ?? "";
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
          expect([200, 400, 404], renamed.text).toContain(renamed.status);
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
