// Attack: fuzzing the Next.js adapter in process, as Next calls it: generated `Request`s into the
// catch-all route's handlers (GET, POST, PATCH, DELETE of app/stepup/[...stepup]/route.ts) for every
// operation of the OpenAPI document, into two `withStepUp` route handlers (a plain rule and a
// transaction-bound one), and generated request headers into a guarded Server Action
// (`guardAction`). The same properties as the Express fuzzing: no 5xx (nor an unexpected error
// logged), problem+json with a known code for API errors, no leak, no unescaped input in a page,
// the document's word for each operation, and never a grant for someone who knows no code.
//
// STEPUP_FUZZ_RUNS sets the runs (npm run fuzz: 2000); a failure prints its seed: replay it with
// STEPUP_FUZZ_SEED=<seed> STEPUP_FUZZ_PATH=<path>.
import { randomBytes } from "node:crypto";
import { email, memoryStore, recoveryCodes, type StepUpEvent, sms, totp } from "@stepup/core";
import {
  DEV_TOKEN_KEY,
  demoTokens,
  describeTransfer,
  parseTransfer,
  sendersFromEnv,
} from "@stepup/example-shared";
import type { OpenApiDocument } from "@stepup/http";
import { createStepUp, type NextStepUp } from "@stepup/next";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STEPUP_SECRET } from "./support/demo.js";
import {
  type CheckContext,
  checkDocumented,
  checkResponse,
  emptyPools,
  fieldValuesOf,
  fuzzParams,
  fuzzTimeout,
  materialize,
  type Operation,
  operationsOf,
  requestArb,
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
  nextTarget,
  printStats,
  proofsNeverGrant,
  sendIn,
  spyStore,
} from "./support/fuzz-fixture.js";
import { openApiChecker } from "./support/openapi-check.js";

const SINGLE_RUNS = 500;
const SEQUENCE_RUNS = 150;
const PROOF_RUNS = 150;
const ACTION_RUNS = 300;

const ORIGIN = "http://localhost:3000";
const METHODS = ["GET", "POST", "PATCH", "DELETE"] as const;

const GUARDED: GuardedRoute[] = [
  { method: "GET", path: "/api/export" },
  { method: "POST", path: "/api/transfer", json: { amount: 5, to: "alice" } },
];
const GUARDED_OPS = guardedOperations(GUARDED);
const HINTS = {
  resource: ["data", "payment", "account", "stepup", "session"],
  action: ["export", "transfer", "delete", "factor.add", "sign-in"],
  limit: ["1", "50", "51", "0", "01"],
  amount: [5, "5", 1001, "12.50", -1, ["5"]],
  to: ["alice", "bob", "a".repeat(65)],
  code: fc.stringMatching(/^[0-9]{6}$/),
  factor: ["totp", "recovery"],
};

/** Reads `{ amount, to }` from a JSON or form body, as the Next demo's transfer route does. */
async function readTransfer(request: Request) {
  const type = request.headers.get("content-type") ?? "";
  const body: unknown = type.startsWith("application/x-www-form-urlencoded")
    ? Object.fromEntries(new URLSearchParams(await request.text()))
    : await request.json().catch(() => ({}));
  return parseTransfer(body);
}

let stepup: NextStepUp;
let world: FuzzWorld;
let ops: Operation[];
let ctx: CheckContext;
let values: ReturnType<typeof fieldValuesOf>;
const sent: string[] = [];
/** What stepup logged as an error: an unexpected one is a 500 somewhere (a store outage is not faked here). */
const logged: string[] = [];
/** The headers the guarded Server Action sees (Next's `headers()`), and the cookies it sets. */
let actionHeaders = new Headers();
const actionCookies: string[] = [];

beforeAll(async () => {
  const store = spyStore(memoryStore());
  const events: StepUpEvent[] = [];
  const users = new Map<string, { id: string; email: string }>();
  const quiet = sendersFromEnv({}, (line) => {
    for (const m of line.matchAll(/\b(\d{6})\b/g)) if (m[1]) sent.push(m[1]);
  });
  stepup = createStepUp(
    {
      store,
      secret: STEPUP_SECRET,
      appName: "Fuzz (Next)",
      factors: [totp(), email(quiet.email), sms(quiet.sms), recoveryCodes()],
      getUser: (request) => {
        const token = /(?:^|;\s*)app_session=([^;]*)/.exec(request.headers.get("cookie") ?? "")?.[1];
        return (token && users.get(token)) || null;
      },
      rules: {
        "data:export": { label: "export your data", maxAge: 300, allowTrustedDevice: true },
        "payment:transfer": { label: "send money", maxAge: 300, match: "transaction" },
        "account:delete": { label: "delete your account", maxAge: 300 },
      },
      tokens: demoTokens(ORIGIN, DEV_TOKEN_KEY),
      // X-Forwarded-For is fuzzed too: the client address is its last entry.
      trustProxy: true,
      onEvent: (e) => {
        events.push(e);
      },
      logger: {
        warn: () => {},
        error: (message, meta) => {
          logged.push(`${message} ${JSON.stringify(meta ?? {})}`);
        },
      },
    },
    {
      shared: false,
      api: {
        headers: async () => actionHeaders,
        cookies: async () => ({
          set: (name: string, value: string) => {
            actionCookies.push(`${name}=${value}`);
          },
        }),
      },
    },
  );
  const exportRoute = stepup.withStepUp(async () => Response.json({ exported: true }), {
    resource: "data",
    action: "export",
  });
  const transferRoute = stepup.withStepUp(
    async (request) => Response.json({ transferred: true, ...(await readTransfer(request)) }),
    {
      resource: "payment",
      action: "transfer",
      transaction: readTransfer,
      describe: async (request) => describeTransfer(await readTransfer(request)),
    },
  );
  const target = nextTarget(ORIGIN, stepup.handlers, {
    "/api/export": { get: (r) => exportRoute(r, {}) },
    "/api/transfer": { post: (r) => transferRoute(r, {}) },
  });

  const account = async (): Promise<Account> => {
    const session = randomBytes(16).toString("base64url");
    const id = `u-${randomBytes(6).toString("hex")}`;
    users.set(session, { id, email: `${id}@example.com` });
    const client = new Client(target, session);
    const { secret, recoveryCodes } = await enrollTotp(client);
    return { id, session, secret, recoveryCodes, client };
  };
  const doc = (await new Client(target).call("GET", "/stepup/openapi.json"))
    .json as unknown as OpenApiDocument;
  ops = [...operationsOf(doc), ...GUARDED_OPS];
  values = fieldValuesOf(doc, HINTS);
  const victim = await account();
  const attacker = await account();
  const pools = emptyPools();
  await fillPools(pools, [victim, attacker], GUARDED);
  const secrets = [
    STEPUP_SECRET,
    DEV_TOKEN_KEY.split("\n")[1] ?? DEV_TOKEN_KEY,
    ...[victim, attacker].flatMap((a) => [a.secret, ...a.recoveryCodes]),
  ];
  world = fuzzWorld({
    target,
    accounts: { victim, attacker },
    store,
    events,
    pools,
    guarded: GUARDED,
    rules: ["resource=data&action=export", "resource=account&action=delete"],
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

afterAll(() => {
  printStats();
});

/** Nothing stepup logged was an unexpected error (a 500 the response may have hidden). */
function expectNothingUnexpected(): void {
  const unexpected = logged.filter((l) => !l.startsWith("stepup received"));
  expect(unexpected, "stepup logged an unexpected error").toEqual([]);
}

const arb = () => requestArb(ops, { appCookie: "app_session", raw: false, values, methods: METHODS });

describe("fuzzing the Next adapter (route handlers, withStepUp, guardAction)", () => {
  it(
    "one request to any operation: no 5xx, problem+json API errors, no leak, no unescaped input, as documented",
    async () => {
      await fc.assert(
        fc.asyncProperty(arb(), async (spec) => {
          await world.startRun();
          const req = await materialize(spec, world);
          const res = await sendIn(world, spec.identity, req);
          checkResponse(req, res, ctx);
          checkDocumented(req, res, ctx, spec);
          await world.expectNothingGranted();
          expectNothingUnexpected();
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
      await fc.assert(
        fc.asyncProperty(fc.array(arb(), { minLength: 1, maxLength: 10 }), async (specs) => {
          await world.startRun();
          for (const spec of specs) {
            const req = await materialize(spec, world);
            const res = await sendIn(world, spec.identity, req);
            checkResponse(req, res, ctx);
          }
          expectNothingUnexpected();
          await world.expectNoGrant();
        }),
        fuzzParams(SEQUENCE_RUNS),
      );
    },
    fuzzTimeout(SEQUENCE_RUNS, 100),
  );

  it(
    "proofs to the caller's own challenge, in valid requests, with anything but the right code, never grant",
    () => proofsNeverGrant(world, values, ctx, PROOF_RUNS),
    fuzzTimeout(PROOF_RUNS, 60),
  );

  it(
    "a guarded Server Action, whatever its request headers say, never runs and never fails unexpectedly",
    async () => {
      const action: Operation = {
        method: "POST",
        template: "/",
        segments: [""],
        query: [],
        fields: [],
        contentTypes: [],
      };
      const headersOnly = requestArb([action], {
        appCookie: "app_session",
        raw: true,
        values,
        methods: ["POST"],
      });
      const kinds = fc.constantFrom(
        { resource: "account", action: "delete" },
        {
          resource: "payment",
          action: "transfer",
          transaction: { amount: 5, to: "alice" },
          description: "Send 5",
        },
      );
      await fc.assert(
        fc.asyncProperty(headersOnly, kinds, async (spec, options) => {
          await world.startRun();
          const req = await materialize(spec, world);
          actionHeaders = new Headers();
          for (const [k, v] of req.headers) {
            try {
              actionHeaders.append(k, v);
            } catch {
              // Not a header Next would pass on.
            }
          }
          const result = await stepup.guardAction(options);
          await world.expectNothingGranted();
          expect(result.ok, JSON.stringify(result)).toBe(false);
          if ("error" in result)
            expect(result.error, `${JSON.stringify(result)} for ${JSON.stringify(req.headers)}`).not.toBe(
              "internal_error",
            );
          expectNothingUnexpected();
        }),
        fuzzParams(ACTION_RUNS),
      );
      await world.expectNoGrant();
    },
    fuzzTimeout(ACTION_RUNS, 10),
  );
});
