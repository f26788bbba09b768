// The world a fuzz run plays in: an app (a `FuzzTarget`), a victim and an attacker who each have
// TOTP enrolled (the test knows their secrets, the generated requests never do), the real ids,
// cookies and CSRF tokens the generators pick from, and the oracles that say "no grant happened".
import { request as httpRequest } from "node:http";
import type { StepUpEvent, Store } from "@stepup/core";
import fc from "fast-check";
import { expect } from "vitest";
import {
  type CheckContext,
  checkResponse,
  csrfToken,
  describeRequest,
  emptyPools,
  type FuzzResponse,
  type FuzzTarget,
  type fieldValuesOf,
  fuzzParams,
  type Identity,
  learn,
  materializeProof,
  type Operation,
  type PoolName,
  type Pools,
  proofArb,
  type RawRequest,
  totpCodes,
  type World,
} from "./fuzz.js";
import { awayFromStepBoundary, codeFor, STEP_MS } from "./totp.js";

// ---------------------------------------------------------------------------------------------
// The store, watched

/** A store that remembers the keys written, so a run can be undone and searched for grants. */
export interface SpyStore extends Store {
  /** `scope\u0000key` of every key written (plain, list or hash write) since `touched.clear()`. */
  readonly touched: Set<string>;
  /** The guess counters, throttles and locks written since they were last reset. */
  readonly counters: Set<string>;
}

const WRITES = [
  "set",
  "setIfAbsent",
  "advance",
  "increment",
  "append",
  "appendAfter",
  "hashSet",
  "hashReplace",
];

/** Guess counters, throttles and locks: reset between runs so each run meets the whole surface. */
const COUNTERS =
  /^(failures|throttle|locked(:.*)?|attempts(:.*)?|f:[^:]+:(send|sent|rate|limit|resend|enroll-cool).*)$/;

export function spyStore(store: Store): SpyStore {
  const touched = new Set<string>();
  const counters = new Set<string>();
  const spy: Record<string, unknown> = { touched, counters };
  for (const [name, fn] of Object.entries(store)) {
    if (typeof fn !== "function") continue;
    spy[name] = (...args: unknown[]) => {
      if (WRITES.includes(name)) {
        const entry = `${String(args[0])}\u0000${String(args[1])}`;
        touched.add(entry);
        if (COUNTERS.test(String(args[1]))) counters.add(entry);
      }
      return (fn as (...a: unknown[]) => unknown).apply(store, args);
    };
  }
  return spy as unknown as SpyStore;
}

export async function resetCounters(store: SpyStore): Promise<void> {
  const byScope = new Map<string, string[]>();
  for (const entry of store.counters) {
    const [scope = "", key = ""] = entry.split("\u0000");
    byScope.set(scope, [...(byScope.get(scope) ?? []), key]);
  }
  store.counters.clear();
  for (const [scope, keys] of byScope) await store.delete(scope, keys);
}

// ---------------------------------------------------------------------------------------------
// Targets

/** An app listening on `origin`, spoken to in raw HTTP/1.1 (node:http): any method, path and Host. */
export function httpTarget(origin: string, appCookie: string): FuzzTarget {
  const { hostname, port } = new URL(origin);
  return {
    origin,
    appCookie,
    raw: true,
    send: (req) =>
      new Promise<FuzzResponse>((resolve, reject) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of req.headers) {
          const prev = headers[k];
          headers[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
        }
        if (req.body) headers["content-length"] = String(req.body.length);
        const r = httpRequest(
          { hostname, port, method: req.method, path: req.target, headers, agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              const h = new Headers();
              const raw = res.rawHeaders;
              for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i] ?? "", raw[i + 1] ?? "");
              resolve({
                status: res.statusCode ?? 0,
                headers: h,
                text: Buffer.concat(chunks).toString("utf8"),
              });
            });
          },
        );
        r.setTimeout(15_000, () => r.destroy(new Error(`no response within 15 s: ${describeRequest(req)}`)));
        r.on("error", reject);
        r.end(req.body ? Buffer.from(req.body) : undefined);
      }),
  };
}

type RouteHandler = (request: Request) => Promise<Response>;

/**
 * The Next adapter in process, routed as Next would: the catch-all route's `handlers` for
 * `/stepup`, the app's route handlers (`routes[path][lower-case method]`), else 404. A thrown error
 * is Next's 500.
 */
export function nextTarget(
  origin: string,
  handlers: Partial<Record<string, RouteHandler>>,
  routes: Record<string, Partial<Record<string, RouteHandler>>>,
): FuzzTarget {
  return {
    origin,
    appCookie: "app_session",
    raw: false,
    async send(req: RawRequest): Promise<FuzzResponse> {
      const headers = new Headers();
      for (const [k, v] of req.headers) {
        try {
          headers.append(k, v);
        } catch {
          // A header no HTTP client can send (Next never sees it).
        }
      }
      const body = req.body && req.method !== "GET" && req.method !== "HEAD" ? req.body : undefined;
      const request = new Request(`${origin}${req.target}`, {
        method: req.method,
        headers,
        ...(body ? { body: Buffer.from(body) } : {}),
      });
      const path = new URL(request.url).pathname;
      const handler =
        path === "/stepup" || path.startsWith("/stepup/")
          ? handlers[req.method]
          : routes[path]?.[req.method.toLowerCase()];
      let res: Response;
      try {
        res = handler ? await handler(request) : new Response("Not Found", { status: 404 });
      } catch (error) {
        // Next answers a thrown error with a 500.
        res = new Response(`thrown: ${(error as Error)?.stack ?? String(error)}`, { status: 500 });
      }
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Setting the world up

/** A plain client for the fixture's own calls (a cookie jar, same-origin, JSON). */
export class Client {
  readonly jar = new Map<string, string>();
  constructor(
    readonly target: FuzzTarget,
    public appSession?: string,
  ) {}

  async call(
    method: string,
    path: string,
    options: { json?: unknown; form?: Record<string, string>; accept?: string } = {},
  ): Promise<FuzzResponse & { json: Record<string, unknown> }> {
    const cookies = [...this.jar].map(([k, v]) => `${k}=${v}`);
    if (this.appSession) cookies.unshift(`${this.target.appCookie}=${this.appSession}`);
    const headers: [string, string][] = [
      ["origin", this.target.origin],
      ["accept", options.accept ?? "application/json"],
    ];
    if (cookies.length) headers.push(["cookie", cookies.join("; ")]);
    let body: Uint8Array | undefined;
    if (options.json !== undefined) {
      headers.push(["content-type", "application/json"]);
      body = Buffer.from(JSON.stringify(options.json));
    } else if (options.form) {
      headers.push(["content-type", "application/x-www-form-urlencoded"]);
      body = Buffer.from(new URLSearchParams(options.form).toString());
    }
    const req: RawRequest = { method, target: path, headers, ...(body ? { body } : {}) };
    const res = await this.target.send(req);
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0\b/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    let json: Record<string, unknown> = {};
    if (/json/.test(res.headers.get("content-type") ?? ""))
      json = JSON.parse(res.text) as Record<string, unknown>;
    return { ...res, json };
  }
}

/** A user of the app with TOTP enrolled: what the test knows and the attacker never does. */
export interface Account {
  id: string;
  /** The app's session cookie value (the attacker may hold it: a stolen password). */
  session: string;
  secret: string;
  recoveryCodes: string[];
  client: Client;
  /** Its own challenges and factors (filled by `fillPools`). */
  own?: { challenge: string[]; factor: string[] };
}

/** Enrolls TOTP through the API (confirmed with the previous step's code). */
export async function enrollTotp(client: Client): Promise<{ secret: string; recoveryCodes: string[] }> {
  await awayFromStepBoundary();
  const started = await client.call("POST", "/stepup/api/factors/totp", { json: {} });
  expect(started.status, started.text).toBe(201);
  const { factorId, secret } = started.json as { factorId: string; secret: string };
  const code = await codeFor(secret, Date.now() - STEP_MS);
  const confirmed = await client.call("POST", `/stepup/api/factors/totp/${factorId}/confirm`, {
    json: { code },
  });
  expect(confirmed.status, confirmed.text).toBe(200);
  return { secret, recoveryCodes: (confirmed.json.recoveryCodes as string[] | undefined) ?? [] };
}

const CSRF = /name="csrf" value="([^"]+)"/g;

/**
 * Fills the pools with what each account's own browser gets: its factors, open challenges (by the
 * API and by the guard), the cookies set on the way, and the CSRF tokens of the console and the
 * challenge pages. `guarded` are the app's guarded routes that open a challenge.
 */
export async function fillPools(
  pools: Pools,
  accounts: readonly Account[],
  guarded: readonly { method: string; path: string; json?: unknown }[],
): Promise<void> {
  const add = (pool: PoolName, v: unknown) => {
    if (typeof v === "string" && v && !pools[pool].includes(v)) pools[pool].push(v);
  };
  for (const account of accounts) {
    const { client } = account;
    const own = { challenge: [] as string[], factor: [] as string[] };
    account.own = own;
    const mine = (pool: "challenge" | "factor", v: unknown) => {
      add(pool, v);
      if (typeof v === "string" && v && !own[pool].includes(v)) own[pool].push(v);
    };
    const factors = await client.call("GET", "/stepup/api/factors");
    expect(factors.status, factors.text).toBe(200);
    // The authenticator app first (`own.factor[0]`): recovery codes cannot be renamed, and the list
    // orders two factors made in the same millisecond either way.
    const listed = factors.json.factors as { id: string; type: string }[];
    for (const f of [...listed].sort((a, b) => Number(a.type === "recovery") - Number(b.type === "recovery")))
      mine("factor", f.id);
    const opened = await client.call("POST", "/stepup/api/challenges", {
      json: { resource: "data", action: "export" },
    });
    expect(opened.status, opened.text).toBe(201);
    mine("challenge", opened.json.challengeId);
    for (const f of opened.json.factors as { id: string }[]) mine("factor", f.id);
    for (const g of guarded) {
      const res = await client.call(g.method, g.path, g.json === undefined ? {} : { json: g.json });
      expect(res.status, res.text).toBe(401);
      mine("challenge", res.json.challengeId);
    }
    const console = await client.call("GET", "/stepup/console", { accept: "text/html" });
    expect(console.status, console.text).toBe(200);
    for (const m of console.text.matchAll(CSRF)) add("csrf", m[1]);
    for (const id of [...pools.challenge]) {
      const page = await client.call("GET", `/stepup/challenge/${id}`, { accept: "text/html" });
      for (const m of page.text.matchAll(CSRF)) add("csrf", m[1]);
    }
    for (const value of client.jar.values()) add("cookie", value);
    add("cookie", client.appSession);
  }
  for (const id of [...pools.challenge, ...pools.factor]) add("id", id);
}

// ---------------------------------------------------------------------------------------------
// A fuzz world and its oracles

/** A guarded route of the app, and how to call it so that it would run if the caller were fresh. */
export interface GuardedRoute {
  method: string;
  path: string;
  json?: unknown;
}

/**
 * The app's guarded routes as operations to fuzz (they are not in stepup's document): a route with
 * a body takes its fields as JSON or as a form, as the demos' routes do.
 */
export function guardedOperations(routes: readonly GuardedRoute[]): Operation[] {
  return routes.map(({ method, path, json }) => ({
    method,
    template: path,
    segments: path.split("/").slice(1),
    query: [],
    fields: json && typeof json === "object" ? Object.keys(json) : [],
    contentTypes: json === undefined ? [] : ["application/json", "application/x-www-form-urlencoded"],
  }));
}

/** Events that only a verification (or a fresh step-up) can cause. */
const GRANTS = new Set<StepUpEvent["type"]>([
  "verification.succeeded",
  "factor.enrolled",
  "factor.removed",
  "recovery.used",
  "recovery.regenerated",
  "device.trusted",
  "signin.completed",
  "token.issued",
]);

export interface FuzzWorld extends World {
  accounts: Record<"victim" | "attacker", Account>;
  store: SpyStore;
  events: StepUpEvent[];
  /** Secrets no response may carry. */
  secrets: string[];
  /** Starts a run: empty jars, the fixture's pools, counters reset. */
  startRun(): Promise<void>;
  /**
   * After a run: the guarded routes still ask both accounts (or `only` these) for a step-up (with
   * every cookie the run collected), status says not fresh, and `expectNothingGranted` (unless
   * `only` is given: the others may have stepped up for real).
   */
  expectNoGrant(only?: readonly ("victim" | "attacker")[]): Promise<void>;
  /** The grant events (those only a verification can cause) emitted since the run started. */
  grantsSinceStart(): StepUpEvent[];
  /**
   * Since the run started: no grant event was emitted, and the store was given no session with an
   * assurance, no transaction grant and no device (cheap: no request).
   */
  expectNothingGranted(): Promise<void>;
}

export function fuzzWorld(options: {
  target: FuzzTarget;
  accounts: Record<"victim" | "attacker", Account>;
  store: SpyStore;
  events: StepUpEvent[];
  pools: Pools;
  guarded: readonly GuardedRoute[];
  /** Status queries (`resource=..&action=..`) that must never say fresh. */
  rules: readonly string[];
  secrets: string[];
  /** Codes that were sent by email or SMS (the attacker never reads them). */
  sentCodes: () => readonly string[];
  /** The stepup secret (for the pages' CSRF tokens, which any signed-in caller can read off a page). */
  stepupSecret: string;
  /** More set-up for each run (after the jars and pools are reset): a pending sign-in, say. */
  onRun?: (world: FuzzWorld) => Promise<void>;
  /** More checks after each run, beside the guarded routes, status and the store. */
  alsoExpect?: (world: FuzzWorld) => Promise<void>;
}): FuzzWorld {
  const { target, accounts, store, events } = options;
  const base = options.pools;
  const totp = totpCodes(() => [accounts.victim.secret, accounts.attacker.secret]);
  const jars = (): Record<Identity, Map<string, string>> => ({
    victim: new Map(),
    attacker: new Map(),
    none: new Map(),
    garbage: new Map(),
  });
  const recovery = [...accounts.victim.recoveryCodes, ...accounts.attacker.recoveryCodes];
  const grantsBefore = () => events.filter((e) => GRANTS.has(e.type)).length;
  let baseline = grantsBefore();
  const world: FuzzWorld = {
    target,
    accounts,
    store,
    events,
    secrets: options.secrets,
    sessions: { victim: accounts.victim.session, attacker: accounts.attacker.session },
    userIds: { victim: accounts.victim.id, attacker: accounts.attacker.id },
    own: { victim: { ...accounts.victim.own }, attacker: { ...accounts.attacker.own } },
    csrf: (binding) => csrfToken(options.stepupSecret, binding),
    pools: emptyPools(),
    jars: jars(),
    async secretCodes() {
      return new Set([...(await totp()), ...recovery, ...options.sentCodes()]);
    },
    async startRun() {
      // A fresh challenge for each account: the user's list of open challenges is capped, so the
      // ones opened before the fuzzing are pushed out by the challenges the runs open.
      for (const who of ["victim", "attacker"] as const) {
        const opened = await accounts[who].client.call("POST", "/stepup/api/challenges", {
          json: { resource: "data", action: "export" },
        });
        const id = opened.json.challengeId;
        if (typeof id === "string") world.own[who] = { ...world.own[who], challenge: [id] };
      }
      world.jars = jars();
      // Each account's browser starts with the step-up cookie its challenges were opened under.
      for (const who of ["victim", "attacker"] as const)
        for (const [k, v] of accounts[who].client.jar) world.jars[who].set(k, v);
      world.pools = structuredClone(base);
      await resetCounters(store);
      await options.onRun?.(world);
      baseline = grantsBefore();
      // Only what the run writes can hold a grant: the fixture's own writes are not searched.
      store.touched.clear();
    },
    grantsSinceStart: () => events.filter((e) => GRANTS.has(e.type)).slice(baseline),
    async expectNothingGranted() {
      const granted = world.grantsSinceStart();
      expect(granted, "no event that only a verification can cause").toEqual([]);
      // A grant is a write (a new session record, a transaction grant, a device): search what the run wrote.
      for (const entry of store.touched) {
        const [scope = "", key = ""] = entry.split("\u0000");
        if (key.startsWith("session:")) {
          const [raw] = await store.getMany(scope, [key]);
          const assurances = raw ? ((JSON.parse(raw) as { assurances?: unknown[] }).assurances ?? []) : [];
          expect(assurances, `session ${scope}/${key} holds an assurance`).toEqual([]);
        }
        expect(key.startsWith("txn:"), `a transaction grant ${scope}/${key}`).toBe(false);
        if (key === "devices") expect(await store.hashGetAll(scope, key), `devices of ${scope}`).toEqual({});
      }
    },
    async expectNoGrant(only) {
      await resetCounters(store);
      if (!only) await world.expectNothingGranted();
      for (const who of only ?? (["victim", "attacker"] as const)) {
        const client = new Client(target, accounts[who].session);
        for (const [k, v] of world.jars[who]) client.jar.set(k, v);
        for (const g of options.guarded) {
          const res = await client.call(g.method, g.path, g.json === undefined ? {} : { json: g.json });
          expect(
            { status: res.status, error: res.json.error },
            `${who}: ${g.method} ${g.path}: ${res.text}`,
          ).toEqual({
            status: 401,
            error: "step_up_required",
          });
        }
        for (const rule of options.rules) {
          const res = await client.call("GET", `/stepup/api/status?${rule}`);
          expect(
            { status: res.status, fresh: res.json.fresh },
            `${who}: status ${rule}: ${res.text}`,
          ).toEqual({
            status: 200,
            fresh: false,
          });
        }
      }
      await options.alsoExpect?.(world);
    },
  };
  return world;
}

/** Sends one spec'd request in the world, learns from its answer, and returns both. */
export async function sendIn(world: World, identity: Identity, req: RawRequest): Promise<FuzzResponse> {
  const started = performance.now();
  const res = await world.target.send(req);
  const ms = performance.now() - started;
  if (process.env.STEPUP_FUZZ_SLOW && ms > Number(process.env.STEPUP_FUZZ_SLOW))
    console.log(`slow: ${Math.round(ms)} ms ${res.status} ${describeRequest(req).slice(0, 300)}`);
  learn(world, identity, res);
  if (process.env.STEPUP_FUZZ_STATS) {
    let error = "";
    if (/json/.test(res.headers.get("content-type") ?? "")) {
      const body = JSON.parse(res.text || "{}") as { error?: unknown; detail?: unknown };
      error = `${String(body.error ?? "")} ${process.env.STEPUP_FUZZ_STATS === "detail" ? String(body.detail ?? "").slice(0, 50) : ""}`;
    } else if (process.env.STEPUP_FUZZ_STATS === "detail" && res.status >= 400) {
      error = ([...res.text.matchAll(/<p[^>]*>([^<]{3,80})/g)].pop()?.[1] ?? "").slice(0, 50);
    }
    const key = `${req.method} ${req.target
      .split("?")[0]
      ?.replace(/\/[^/]{20,}/g, "/<id>")
      .slice(0, 60)} -> ${res.status} ${error}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
  }
  return res;
}

/** What the responses were (STEPUP_FUZZ_STATS=1): how deep the generated requests got. */
export const stats = new Map<string, number>();

export function printStats(): void {
  if (!process.env.STEPUP_FUZZ_STATS) return;
  const lines = [...stats]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${String(n).padStart(5)} ${k}`);
  console.log(lines.join("\n"));
}

/**
 * The shared property of both adapters: proofs to the caller's own challenge, in otherwise valid
 * requests (cookies, CSRF token), with anything but the right code, never grant; and at least one
 * reached the code check (not only the input validation before it).
 */
export async function proofsNeverGrant(
  world: FuzzWorld,
  values: ReturnType<typeof fieldValuesOf>,
  ctx: CheckContext,
  runs: number,
): Promise<void> {
  let wrongCodes = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(proofArb(values), { minLength: 1, maxLength: 6 }), async (proofs) => {
      await world.startRun();
      for (const proof of proofs) {
        const req = await materializeProof(proof, world);
        const res = await sendIn(world, proof.identity, req);
        checkResponse(req, res, ctx);
        // A code sent by email or SMS (start, or the page's "send" button) is a 200, not a grant.
        if (proof.via === "verify") expect(res.status, res.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
        if (proof.via === "page") expect(res.status, "the page let the action through").not.toBe(303);
        if (/"error":"invalid_code"/.test(res.text)) wrongCodes++;
      }
      await world.expectNothingGranted();
    }),
    fuzzParams(runs),
  );
  await world.expectNoGrant();
  expect(wrongCodes).toBeGreaterThan(0);
}
