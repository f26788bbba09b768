// Fuzzing the factors' own ceremonies, shared by the Express and the Next fixtures
// (test/fuzz.ceremonies.test.ts): WebAuthn registration and assertion bodies built from real
// ceremony output (the software authenticator of packages/core/test) and bent field by field, and
// the email and SMS routes with both factors enrolled through real senders (a real SMTP server and
// a real SMS webhook), so a run may also send the right code. The oracle is the grant events: one
// may be emitted only by a step the model says could prove something (the real assertion, the
// code that was sent), never by any other.
import { createHash } from "node:crypto";
import type { StepUpEvent } from "@stepup/core";
import fc from "fast-check";
import { expect } from "vitest";
import { isoCBOR } from "../../packages/core/test/cbor.js";
import { type SoftAuthenticator, softAuthenticator } from "../../packages/core/test/soft-authenticator.js";
import { type AttestationEdit, attestationEditArb, editAttestation } from "./attestation-edits.js";
import type { Channels } from "./codes.js";
import {
  type CheckContext,
  CSRF,
  checkResponse,
  emptyPools,
  encode,
  type FuzzResponse,
  type FuzzTarget,
  fuzzParams,
  fuzzString,
  type RawRequest,
} from "./fuzz.js";
import {
  type Account,
  Client,
  enrollTotp,
  type FuzzWorld,
  fillPools,
  fuzzWorld,
  sendIn,
} from "./fuzz-fixture.js";
import { codeFor } from "./totp.js";

type Who = "victim" | "attacker";
const WHO: readonly Who[] = ["victim", "attacker"];
type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The fixture: two users with every factor, enrolled through the API and the real senders

export interface CeremonyAccount extends Account {
  key: SoftAuthenticator;
  factorIds: { totp: string; webauthn: string; email: string; sms: string };
  address: string;
  phone: string;
}

export interface CeremonyFixture {
  world: FuzzWorld;
  ctx: CheckContext;
  accounts: Record<Who, CeremonyAccount>;
  channels: Channels;
  /** The origin and RP ID the WebAuthn factor is bound to (not necessarily the HTTP origin). */
  rpID: string;
  webauthnOrigin: string;
  /** A new signed-in user with no factor at all: enrolling the first needs no step-up. */
  newcomer(): Promise<{ id: string; client: Client }>;
  /** More checks after each step (Next: nothing unexpected logged). */
  alsoCheck?(): void;
}

/** A user the app knows: its id, app session cookie value and email. */
export interface SignedUp {
  id: string;
  session: string;
  email: string;
}

/** A fresh E.164 number in the +1 555 range (sends are limited per number). */
const phoneOf = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

async function expectStatus(res: Promise<FuzzResponse & { json: Json }>, status: number) {
  const r = await res;
  expect(r.status, r.text).toBe(status);
  return r.json;
}

/**
 * Gives a user TOTP (first: no step-up needed), then, after one real step-up with it, a security
 * key (the software authenticator), an email address and a phone number, each confirmed with the
 * code the real SMTP server or webhook received. The client that did it keeps its fresh cookie;
 * the account the fuzzing uses signs in anew (a browser with no step-up yet).
 */
async function enrollEverything(
  target: FuzzTarget,
  user: SignedUp,
  channels: Channels,
  webauthn: { rpID: string; origin: string },
): Promise<CeremonyAccount> {
  const setup = new Client(target, user.session);
  const { secret, recoveryCodes } = await enrollTotp(setup);
  const key = softAuthenticator({ rpID: webauthn.rpID, origin: webauthn.origin });
  // Adding a factor to a user who has one asks for a step-up (`stepup:factor.add`): prove it once.
  const asked = await setup.call("POST", "/stepup/api/factors/webauthn", { json: {} });
  expect({ status: asked.status, error: asked.json.error }, asked.text).toEqual({
    status: 401,
    error: "step_up_required",
  });
  await expectStatus(
    setup.call("POST", `/stepup/api/challenges/${String(asked.json.challengeId)}/verify`, {
      json: { factor: "totp", code: await codeFor(secret, Date.now()) },
    }),
    200,
  );
  const started = await expectStatus(setup.call("POST", "/stepup/api/factors/webauthn", { json: {} }), 201);
  const webauthnId = String(started.factorId);
  await expectStatus(
    setup.call("POST", `/stepup/api/factors/webauthn/${webauthnId}/confirm`, {
      json: { response: key.register(started.options as Parameters<SoftAuthenticator["register"]>[0]) },
    }),
    200,
  );
  const address = user.email;
  const mailed = await expectStatus(
    setup.call("POST", "/stepup/api/factors/email", { json: { email: address } }),
    201,
  );
  const mail = await channels.smtp.waitForMail(address, { match: isCodeMail });
  await expectStatus(
    setup.call("POST", `/stepup/api/factors/email/${String(mailed.factorId)}/confirm`, {
      json: { code: mail.code },
    }),
    200,
  );
  const phone = phoneOf();
  const texted = await expectStatus(setup.call("POST", "/stepup/api/factors/sms", { json: { phone } }), 201);
  const sms = await channels.sms.waitForSms(phone);
  await expectStatus(
    setup.call("POST", `/stepup/api/factors/sms/${String(texted.factorId)}/confirm`, {
      json: { code: sms.code },
    }),
    200,
  );
  const listed = await expectStatus(setup.call("GET", "/stepup/api/factors"), 200);
  const ids = Object.fromEntries(
    (listed.factors as { id: string; type: string }[]).map((f) => [f.type, f.id]),
  ) as Record<string, string>;
  return {
    id: user.id,
    session: user.session,
    secret,
    recoveryCodes,
    client: new Client(target, user.session),
    key,
    factorIds: {
      totp: ids.totp ?? "",
      webauthn: webauthnId,
      email: String(mailed.factorId),
      sms: String(texted.factorId),
    },
    address,
    phone,
  };
}

/**
 * Builds the fixture on an app (either adapter): two users with every factor, the world the
 * checks run in (its guarded routes and rules, its secrets), and a way to make newcomers.
 */
export async function ceremonyFixture(options: {
  target: FuzzTarget;
  signUp(): Promise<SignedUp>;
  store: Parameters<typeof fuzzWorld>[0]["store"];
  events: StepUpEvent[];
  channels: Channels;
  rpID: string;
  webauthnOrigin: string;
  stepupSecret: string;
  /** Server secrets no response may carry (the users' own are added). */
  secrets: readonly string[];
  guarded: Parameters<typeof fuzzWorld>[0]["guarded"];
  rules: readonly string[];
  alsoCheck?(): void;
}): Promise<CeremonyFixture> {
  const { target, channels } = options;
  const webauthn = { rpID: options.rpID, origin: options.webauthnOrigin };
  const victim = await enrollEverything(target, await options.signUp(), channels, webauthn);
  const attacker = await enrollEverything(target, await options.signUp(), channels, webauthn);
  const pools = emptyPools();
  await fillPools(pools, [victim, attacker], options.guarded);
  const secrets = [...options.secrets, ...[victim, attacker].flatMap((a) => [a.secret, ...a.recoveryCodes])];
  const world = fuzzWorld({
    target,
    accounts: { victim, attacker },
    store: options.store,
    events: options.events,
    pools,
    guarded: options.guarded,
    rules: options.rules,
    secrets,
    sentCodes: () => codesSent(channels),
    stepupSecret: options.stepupSecret,
  });
  return {
    world,
    ctx: { basePath: "/stepup", secrets },
    accounts: { victim, attacker },
    channels,
    rpID: options.rpID,
    webauthnOrigin: options.webauthnOrigin,
    async newcomer() {
      const user = await options.signUp();
      return { id: user.id, client: new Client(target, user.session) };
    },
    ...(options.alsoCheck ? { alsoCheck: options.alsoCheck } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Sending one step, and the grant oracle

/** What a step may do: `may` prove (grant or not), or `never` (a grant is a finding). */
type Verdict = "may" | "never";
const worst = (...v: Verdict[]): Verdict => (v.includes("never") ? "never" : "may");

/** A request the way the account's own browser sends it: its cookies, same origin. */
function browserRequest(
  f: CeremonyFixture,
  who: Who | "newcomer",
  client: Client,
  method: string,
  target: string,
  body?: { text: string; type: string; accept?: string },
): RawRequest {
  const cookies = [`${f.world.target.appCookie}=${client.appSession ?? ""}`];
  const jar = who === "newcomer" ? client.jar : f.world.jars[who];
  for (const [k, v] of jar) cookies.push(`${k}=${v}`);
  const headers: [string, string][] = [
    ["origin", f.world.target.origin],
    ["cookie", cookies.join("; ")],
    ["accept", body?.accept ?? "application/json"],
  ];
  if (body) headers.push(["content-type", body.type]);
  return { method, target, headers, ...(body ? { body: Buffer.from(body.text, "utf8") } : {}) };
}

/** Every code sent so far (no response may carry one). */
/**
 * A message with a code. Security notices go out in the background, on their own time, and one
 * names the new factor, whose masked address may hold six digits the fuzzer put there
 * ("e***@example.com007864"): those are no code.
 */
const isCodeMail = (m: { subject: string; code: string }) =>
  /verification code/.test(m.subject) && m.code !== "";

/** The codes mailed and texted so far. */
function codesSent(channels: Channels): string[] {
  return [...channels.smtp.messages.filter(isCodeMail), ...channels.sms.messages]
    .map((m) => m.code)
    .filter(Boolean);
}

/**
 * Sends one step and checks it: every response property, no code echoed, and a grant event only
 * where the verdict allows one. Returns the response and whether it granted.
 */
async function step(
  f: CeremonyFixture,
  who: Who | "newcomer",
  client: Client,
  req: RawRequest,
  verdict: Verdict,
  label: () => string,
): Promise<{ res: FuzzResponse; json: Json; granted: StepUpEvent[] }> {
  const before = f.world.grantsSinceStart().length;
  const res =
    who === "newcomer"
      ? await f.world.target.send(req).then((r) => {
          for (const line of r.headers.getSetCookie()) {
            const [pair = ""] = line.split(";");
            const eq = pair.indexOf("=");
            if (eq > 0) client.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
          }
          return r;
        })
      : await sendIn(f.world, who, req);
  checkResponse(req, res, f.ctx);
  // A code on its own (not inside a longer run of digits, like the example number +15551234567).
  const runs = new Set(res.text.match(/\d+/g) ?? []);
  for (const code of codesSent(f.channels))
    expect(runs.has(code), `a sent code is echoed: ${res.text.slice(0, 300)}`).toBe(false);
  f.alsoCheck?.();
  const granted = f.world.grantsSinceStart().slice(before);
  if (verdict === "never")
    expect(
      granted.map((e) => e.type),
      `granted without a proof: ${label()}\n${res.status} ${res.text.slice(0, 300)}`,
    ).toEqual([]);
  let json: Json = {};
  if (/json/.test(res.headers.get("content-type") ?? "") && res.text) json = JSON.parse(res.text) as Json;
  return { res, json, granted };
}

/**
 * After a run: nothing was granted to an account that made no verification the model allows, and
 * each grant event came from an allowed step (`step` checks that one by one).
 */
async function endRun(f: CeremonyFixture, proved: ReadonlySet<Who>, newcomerProved = false): Promise<void> {
  const unproved = WHO.filter((w) => !proved.has(w));
  if (proved.size === 0 && !newcomerProved) await f.world.expectNoGrant();
  else if (unproved.length > 0) await f.world.expectNoGrant(unproved);
}

/**
 * The newcomer to use for a run: `current`, or a new one once `current` has a factor (enrolled in an
 * earlier run, even one that failed: shrinking replays runs after it).
 */
async function unenrolled(f: CeremonyFixture, current: Newcomer): Promise<Newcomer> {
  const enrolled = f.world.events.some((e) => e.type === "factor.enrolled" && e.userId === current.id);
  return enrolled ? f.newcomer() : current;
}
type Newcomer = Awaited<ReturnType<CeremonyFixture["newcomer"]>>;

const jsonBody = (value: unknown) => ({ text: JSON.stringify(value) ?? "null", type: "application/json" });

// ---------------------------------------------------------------------------------------------
// WebAuthn: mutations of a real response

/**
 * Sets `name` in parsed client data (even `__proto__`, as an own key) and says whether the change
 * may still prove: a key the server reads, given a new value, is a change; the same value, or a key
 * it ignores, is none.
 */
function setClientDataKey(data: Json, name: string, value: unknown): Verdict {
  const known =
    ["type", "challenge", "origin", "crossOrigin", "topOrigin"].includes(name) &&
    !sameJson(data[name], value);
  Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true });
  return known ? "never" : "may";
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url");
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest();

/** A base64url field's text bent: a character changed, cut, doubled, padded, or in standard base64. */
interface Bits {
  how: "flip" | "cut" | "grow" | "pad" | "std" | "space" | "empty";
  at: number;
}
const bitsArb: fc.Arbitrary<Bits> = fc.record({
  how: fc.constantFrom("flip", "cut", "grow", "pad", "std", "space", "empty"),
  at: fc.nat({ max: 2000 }),
});
function bend(text: string, { how, at }: Bits): string {
  const i = text.length === 0 ? 0 : at % text.length;
  switch (how) {
    case "flip": {
      const c = text[i] === "A" ? "B" : "A";
      return text.slice(0, i) + c + text.slice(i + 1);
    }
    case "cut":
      return text.slice(0, i);
    case "grow":
      return text + text.slice(i);
    case "pad":
      return `${text}==`;
    case "std":
      return text.replaceAll("-", "+").replaceAll("_", "/");
    case "space":
      return `${text.slice(0, i)} ${text.slice(i)}`;
    case "empty":
      return "";
  }
}

/** Values of every type for a field: garbage, Unicode, huge, base64url-looking, nested. */
const garbage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fuzzString },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,120}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 70_000 }).map((n) => "A".repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, [], {}, [""], { $ne: null }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => b64(b)) },
);

/** Paths of an assertion body's fields (`{ factor, factorId, response: credential }`). */
const ASSERTION_FIELDS = [
  ["factor"],
  ["factorId"],
  ["response"],
  ["response", "id"],
  ["response", "rawId"],
  ["response", "type"],
  ["response", "response"],
  ["response", "response", "clientDataJSON"],
  ["response", "response", "authenticatorData"],
  ["response", "response", "signature"],
  ["response", "response", "userHandle"],
  ["response", "clientExtensionResults"],
  ["response", "authenticatorAttachment"],
  ["rememberDevice"],
] as const;
/** Fields whose value the server ignores or only takes as a hint: any value may still prove. */
const HINTS = new Set([
  "response.clientExtensionResults",
  "response.authenticatorAttachment",
  "rememberDevice",
]);
/** Fields that may be left out (a null or empty userHandle means "not returned"). */
const OPTIONAL = new Set([...HINTS, "response.response.userHandle", "factorId"]);
const B64_FIELDS = ["clientDataJSON", "authenticatorData", "signature", "userHandle"] as const;

/** A change to the signed client data (re-signed by the real key, or not). */
type ClientDataChange =
  | { field: "type" | "challenge" | "origin" | "crossOrigin" | "topOrigin"; value: unknown }
  | { field: "drop"; name: "type" | "challenge" | "origin" | "crossOrigin" }
  | { field: "extra"; name: string; value: unknown }
  | { field: "duplicate"; name: "type" | "challenge" | "origin"; wrong: string; rightLast: boolean }
  | { field: "bytes"; text: string };

/** A change to the signed authenticator data. */
type AuthDataChange =
  | { field: "rpIdHash"; of: string }
  | { field: "flags"; clear: number; set: number }
  | { field: "counter"; delta: number }
  | { field: "trailing"; bytes: Uint8Array }
  | { field: "cut"; at: number };

export type AssertionMutation =
  | { kind: "intact" }
  | { kind: "replace"; path: readonly string[]; value: unknown }
  | { kind: "drop"; path: readonly string[] }
  | { kind: "bits"; field: (typeof B64_FIELDS)[number] | "id" | "rawId" | "idAndRawId"; bits: Bits }
  | { kind: "clientData"; change: ClientDataChange; resign: boolean }
  | { kind: "authData"; change: AuthDataChange; resign: boolean }
  | { kind: "extra"; where: "body" | "credential" | "inner"; key: string; value: unknown }
  | { kind: "duplicateKey"; key: "factor" | "factorId" | "response"; value: unknown; rightLast: boolean }
  | { kind: "otherKey"; how: "signWith" | "theirCredential" }
  | { kind: "factorId"; which: "totp" | "email" | "theirs" }
  | { kind: "stale" };

const WRONG_ORIGINS = [
  "http://evil.example",
  "https://localhost",
  "null",
  "",
  "http://localhost",
  "http://localhost:1",
  "http://127.0.0.1",
];

const clientDataChangeArb: fc.Arbitrary<ClientDataChange> = fc.oneof(
  fc.record({
    field: fc.constant("type" as const),
    value: fc.oneof(fc.constantFrom("webauthn.create", "", "WEBAUTHN.GET", "webauthn.get "), garbage),
  }),
  fc.record({
    field: fc.constant("challenge" as const),
    value: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), garbage),
  }),
  fc.record({
    field: fc.constant("origin" as const),
    value: fc.oneof(fc.constantFrom(...WRONG_ORIGINS), fc.constantFrom("$origin/", "$ORIGIN"), garbage),
  }),
  fc.record({ field: fc.constant("crossOrigin" as const), value: fc.constant(true) }),
  fc.record({ field: fc.constant("topOrigin" as const), value: fc.oneof(fc.constant("$origin"), garbage) }),
  fc.record({
    field: fc.constant("drop" as const),
    name: fc.constantFrom("type", "challenge", "origin", "crossOrigin") as fc.Arbitrary<
      "type" | "challenge" | "origin" | "crossOrigin"
    >,
  }),
  fc.record({
    field: fc.constant("extra" as const),
    name: fc.oneof(
      fc.constantFrom("other_keys_can_be_added_here", "tokenBinding2", "__proto__x"),
      fuzzString,
    ),
    value: garbage,
  }),
  fc.record({
    field: fc.constant("duplicate" as const),
    name: fc.constantFrom("type", "challenge", "origin") as fc.Arbitrary<"type" | "challenge" | "origin">,
    wrong: fc.constantFrom("webauthn.create", "AAAA", "http://evil.example"),
    rightLast: fc.boolean(),
  }),
  fc.record({
    field: fc.constant("bytes" as const),
    text: fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.constantFrom("[]", "null", '"x"', "{", ""),
    ),
  }),
);

const authDataChangeArb: fc.Arbitrary<AuthDataChange> = fc.oneof(
  fc.record({
    field: fc.constant("rpIdHash" as const),
    of: fc.constantFrom("evil.example", "LOCALHOST", ""),
  }),
  fc.record({
    field: fc.constant("flags" as const),
    clear: fc.constantFrom(0, 0x01, 0x04, 0x05, 0xff),
    set: fc.constantFrom(0, 0x08, 0x10, 0x18, 0x40, 0x80),
  }),
  fc.record({ field: fc.constant("counter" as const), delta: fc.integer({ min: -3, max: 5 }) }),
  fc.record({
    field: fc.constant("trailing" as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({ field: fc.constant("cut" as const), at: fc.nat({ max: 36 }) }),
);

const pathArb = fc.constantFrom(...ASSERTION_FIELDS) as fc.Arbitrary<readonly string[]>;

export const assertionMutationArb: fc.Arbitrary<AssertionMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "intact" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("replace" as const), path: pathArb, value: garbage }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), path: pathArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("bits" as const),
      field: fc.constantFrom(...B64_FIELDS, "id", "rawId", "idAndRawId") as fc.Arbitrary<
        (typeof B64_FIELDS)[number] | "id" | "rawId" | "idAndRawId"
      >,
      bits: bitsArb,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("clientData" as const),
      change: clientDataChangeArb,
      resign: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("authData" as const),
      change: authDataChangeArb,
      resign: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("extra" as const),
      where: fc.constantFrom("body", "credential", "inner") as fc.Arbitrary<"body" | "credential" | "inner">,
      key: fc.oneof(
        fc.constantFrom("__proto__", "constructor", "publicKey", "counter", "verified"),
        fuzzString,
      ),
      value: garbage,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("duplicateKey" as const),
      key: fc.constantFrom("factor", "factorId", "response") as fc.Arbitrary<
        "factor" | "factorId" | "response"
      >,
      value: garbage,
      rightLast: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("otherKey" as const),
      how: fc.constantFrom("signWith", "theirCredential") as fc.Arbitrary<"signWith" | "theirCredential">,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("factorId" as const),
      which: fc.constantFrom("totp", "email", "theirs") as fc.Arbitrary<"totp" | "email" | "theirs">,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "stale" as const }) },
);

const getPath = (o: Json, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Json)[k] : undefined), o);

function setPath(o: Json, path: readonly string[], value: unknown, drop = false): void {
  let node: Json = o;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (typeof next !== "object" || next === null) return;
    node = next as Json;
  }
  const last = path[path.length - 1] ?? "";
  if (drop) delete node[last];
  else Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A mutated body: its text; the verdict on its content (`may` when what the server checks is
 * unchanged, or changed where it only takes a hint, `never` otherwise); the counter it reports; and
 * what it did to the signature (a later mutation may re-sign what an earlier one broke).
 */
interface Mutated {
  text: string;
  verdict: Verdict;
  counter?: number;
  sig?: "breaks" | "repairs";
}

/** Applies a mutation to a real assertion body (see `Mutated`). */
function mutateAssertion(
  base: Json,
  m: AssertionMutation,
  ctx: {
    key: SoftAuthenticator;
    other: SoftAuthenticator;
    otherBody: () => Json;
    origin: string;
    rpID: string;
    factorIds: { totp: string; email: string; theirs: string };
  },
): Mutated {
  const body = structuredClone(base);
  const inner = getPath(body, ["response", "response"]) as Json;
  const text = (v: Verdict, counter?: number, sig?: Mutated["sig"]) => ({
    text: JSON.stringify(body),
    verdict: v,
    ...(counter === undefined ? {} : { counter }),
    ...(sig === undefined ? {} : { sig }),
  });
  const authBytes = unb64(String(inner?.authenticatorData ?? ""));
  const origCounter = authBytes.length >= 37 ? authBytes.readUInt32BE(33) : undefined;
  /** Re-signs `authData || sha256(clientDataJSON)` with the caller's key (what a bent client could send). */
  const resign = (authData: Buffer, clientData: Buffer) => {
    inner.authenticatorData = b64(authData);
    inner.clientDataJSON = b64(clientData);
    inner.signature = b64(ctx.key.sign(Buffer.concat([authData, sha256(clientData)])));
  };
  switch (m.kind) {
    case "intact":
      return text("may", origCounter);
    case "replace": {
      const name = m.path.join(".");
      const before = getPath(body, m.path);
      setPath(body, m.path, m.value);
      if (HINTS.has(name) || sameJson(before, m.value)) return text("may", origCounter);
      if (name === "response.response.signature") return text("may", origCounter, "breaks");
      // A userHandle left out (null or empty) still proves: the credential is bound to its factor.
      if (name === "response.response.userHandle" && (m.value === null || m.value === ""))
        return text("may", origCounter);
      return text("never");
    }
    case "drop":
      setPath(body, m.path, undefined, true);
      if (m.path.join(".") === "response.response.signature") return text("may", origCounter, "breaks");
      return text(OPTIONAL.has(m.path.join(".")) ? "may" : "never", origCounter);
    case "bits": {
      if (m.field === "id" || m.field === "rawId" || m.field === "idAndRawId") {
        const cred = body.response as Json;
        const bent = bend(String(cred.id), m.bits);
        if (m.field !== "rawId") cred.id = bent;
        if (m.field !== "id") cred.rawId = bent;
        // `rawId` must spell `id` exactly; both spelling the same bytes otherwise still prove.
        const before = String((base.response as Json).id);
        const same = cred.id === cred.rawId && bent !== "" && unb64(bent).equals(unb64(before));
        return text(same || sameJson(cred, base.response) ? "may" : "never", origCounter);
      }
      const before = String(inner[m.field] ?? "");
      const bent = bend(before, m.bits);
      inner[m.field] = bent;
      // Another spelling of the same bytes proves the same (base64url decoding is lenient); an
      // empty userHandle means "not returned". Not so for other bytes: a signature that is not
      // byte for byte the authenticator's (the same r and s in DER written twice, with bytes after
      // it, its length changed) never proves, though the library's lenient DER reader would take it.
      const same =
        (bent !== "" && unb64(bent).equals(unb64(before))) || (m.field === "userHandle" && bent === "");
      if (same) return text("may", origCounter);
      if (m.field === "userHandle") return text("never", origCounter);
      // Signed bytes changed (or the signature): the content is for the server to judge once re-signed.
      return text("may", origCounter, "breaks");
    }
    case "clientData": {
      const original = unb64(String(inner.clientDataJSON));
      const data = JSON.parse(original.toString("utf8")) as Json;
      const c = m.change;
      let bytes: Buffer;
      let verdict: Verdict = "never";
      const value = (v: unknown) =>
        v === "$origin/"
          ? `${ctx.origin}/`
          : v === "$ORIGIN"
            ? ctx.origin.toUpperCase()
            : v === "$origin"
              ? ctx.origin
              : v;
      if (c.field === "bytes") bytes = Buffer.from(c.text, "utf8");
      else if (c.field === "duplicate") {
        const right = JSON.stringify(data[c.name]);
        const rest = JSON.stringify(data).slice(1, -1);
        const wrong = `${JSON.stringify(c.name)}:${JSON.stringify(c.wrong)}`;
        // JSON.parse keeps the last of duplicated keys: the right value last proves, first does not.
        bytes = Buffer.from(c.rightLast ? `{${wrong},${rest}}` : `{${rest},${wrong}}`, "utf8");
        verdict = c.rightLast || right === JSON.stringify(c.wrong) ? "may" : "never";
      } else {
        if (c.field === "drop") {
          delete data[c.name];
          verdict = c.name === "crossOrigin" ? "may" : "never";
        } else if (c.field === "extra") {
          verdict = setClientDataKey(data, c.name, c.value);
        } else {
          const v = value(c.value);
          verdict = sameJson(data[c.field], v) ? "may" : "never";
          data[c.field] = v;
        }
        bytes = Buffer.from(JSON.stringify(data), "utf8");
      }
      if (m.resign) resign(unb64(String(inner.authenticatorData)), bytes);
      else inner.clientDataJSON = b64(bytes);
      return text(verdict, origCounter, m.resign ? "repairs" : bytes.equals(original) ? undefined : "breaks");
    }
    case "authData": {
      const auth = Buffer.from(unb64(String(inner.authenticatorData)));
      const clientData = unb64(String(inner.clientDataJSON));
      const c = m.change;
      let out: Buffer = auth;
      let verdict: Verdict = "never";
      if (origCounter === undefined) throw new Error("no authenticator data to bend");
      let counter = origCounter;
      if (c.field === "rpIdHash") {
        out = Buffer.concat([sha256(c.of), auth.subarray(32)]);
        verdict = c.of === ctx.rpID ? "may" : "never";
      } else if (c.field === "flags") {
        const flags = ((auth[32] ?? 0) & ~c.clear) | c.set;
        out = Buffer.from(auth);
        out[32] = flags;
        // Presence is required; verification is the rule's to ask (not these rules); the backup bits
        // are hints. Attested data (AT) or extensions (ED) announced but absent is malformed.
        verdict = flags & 0x01 && !(flags & 0xc0) ? "may" : "never";
      } else if (c.field === "counter") {
        counter = Math.max(0, origCounter + c.delta);
        out = Buffer.from(auth);
        out.writeUInt32BE(counter, 33);
        // (Judged on the final body: a later mutation may move it again. See the caller.)
        verdict = "may";
      } else if (c.field === "trailing") out = Buffer.concat([auth, c.bytes]);
      else out = auth.subarray(0, c.at);
      if (m.resign) resign(out, clientData);
      else inner.authenticatorData = b64(out);
      return text(verdict, counter, m.resign ? "repairs" : out.equals(auth) ? undefined : "breaks");
    }
    case "extra": {
      const where = m.where === "body" ? body : m.where === "credential" ? (body.response as Json) : inner;
      const known = Object.hasOwn(where, m.key);
      if (!known)
        Object.defineProperty(where, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return text("may", origCounter);
    }
    case "duplicateKey": {
      const rest = JSON.stringify(body).slice(1, -1);
      const dup = `${JSON.stringify(m.key)}:${JSON.stringify(m.value) ?? "null"}`;
      const same = sameJson(body[m.key], m.value);
      return {
        text: m.rightLast ? `{${dup},${rest}}` : `{${rest},${dup}}`,
        verdict: m.rightLast || same || (m.key === "factorId" && m.value === undefined) ? "may" : "never",
        counter: origCounter,
      };
    }
    case "otherKey": {
      if (m.how === "theirCredential")
        return { text: JSON.stringify({ ...ctx.otherBody(), factorId: body.factorId }), verdict: "never" };
      // The same body, signed by another authenticator's key.
      const auth = unb64(String(inner.authenticatorData));
      const clientData = unb64(String(inner.clientDataJSON));
      inner.signature = b64(ctx.other.sign(Buffer.concat([auth, sha256(clientData)])));
      return text("may", origCounter, "breaks");
    }
    case "factorId":
      body.factorId = ctx.factorIds[m.which];
      return text("never");
    case "stale":
      return text("never");
  }
}

/**
 * WebAuthn assertions to the caller's own challenge: each run starts the ceremony (a start with a
 * generated body, then a real one), and sends real assertions bent by generated mutations (or
 * fully random bodies). A grant event only after an assertion the model says proves; at least one
 * real assertion granted over the property (the harness reaches success).
 */
export async function webauthnAssertionsProperty(f: CeremonyFixture, runs: number, scale: number) {
  let grants = 0;
  let refusals = 0;
  const accepted: Record<Who, number> = {
    victim: f.accounts.victim.key.signCount,
    attacker: f.accounts.attacker.key.signCount,
  };
  const startBody = fc.oneof(
    { weight: 6, arbitrary: fc.constant<unknown>(undefined) },
    {
      weight: 2,
      arbitrary: fc.record({
        factor: fc.oneof(fc.constant<unknown>("webauthn"), garbage),
        factorId: fc.oneof(fc.constantFrom<unknown>("$mine", "$totp", "$theirs"), garbage),
      }),
    },
    { weight: 1, arbitrary: garbage },
  );
  const runArb = fc.record({
    who: fc.constantFrom(...WHO),
    start: startBody,
    steps: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.array(assertionMutationArb, { minLength: 1, maxLength: 2 }) },
        { weight: 1, arbitrary: fc.constant("restart" as const) },
        { weight: 1, arbitrary: garbage.map((g) => ({ random: g })) },
      ),
      { minLength: 1, maxLength: 4 },
    ),
  });
  await fc.assert(
    fc.asyncProperty(runArb, async ({ who, start, steps }) => {
      await f.world.startRun();
      const me = f.accounts[who];
      const them = f.accounts[who === "victim" ? "attacker" : "victim"];
      const challengeId = f.world.own[who].challenge?.[0] ?? "missing";
      const proved = new Set<Who>();
      let options: Parameters<SoftAuthenticator["authenticate"]>[0] | undefined;
      let previous: typeof options;
      let used = false;
      const doStart = async (body: unknown) => {
        const resolved =
          typeof body === "object" && body !== null && !Array.isArray(body)
            ? Object.fromEntries(
                Object.entries(body as Json).map(([k, v]) => [
                  k,
                  v === "$mine"
                    ? me.factorIds.webauthn
                    : v === "$totp"
                      ? me.factorIds.totp
                      : v === "$theirs"
                        ? them.factorIds.webauthn
                        : v,
                ]),
              )
            : { factor: "webauthn", factorId: me.factorIds.webauthn };
        const sent = body === undefined ? { factor: "webauthn", factorId: me.factorIds.webauthn } : resolved;
        const req = browserRequest(
          f,
          who,
          me.client,
          "POST",
          `/stepup/api/challenges/${challengeId}/start`,
          jsonBody(sent),
        );
        const { res, json } = await step(
          f,
          who,
          me.client,
          req,
          "never",
          () => `start ${JSON.stringify(sent)}`,
        );
        if (res.status === 200 && typeof json.options === "object") {
          previous = options;
          options = json.options as typeof options;
          used = false;
        }
      };
      await doStart(start);
      if (!options) await doStart(undefined);
      for (const s of steps) {
        if (s === "restart") {
          await doStart(undefined);
          continue;
        }
        let text: string;
        let verdict: Verdict;
        let counter: number | undefined;
        if ("random" in s) {
          text =
            JSON.stringify({ factor: "webauthn", factorId: me.factorIds.webauthn, response: s.random }) ?? "";
          verdict = "never";
        } else {
          const stale = s.some((m) => m.kind === "stale");
          const target = stale ? previous : options;
          if (!target) continue;
          const real = me.key.authenticate(target);
          const base: Json = { factor: "webauthn", factorId: me.factorIds.webauthn, response: real };
          // Mutations apply one after the other (a second one bends the first's output).
          verdict = stale || used ? "never" : "may";
          let current: Json = base;
          let sigBroken = false;
          text = JSON.stringify(base);
          for (const m of s) {
            // A mutation that cannot apply to what an earlier one left (a field gone) changes nothing.
            let out: ReturnType<typeof mutateAssertion>;
            try {
              out = mutateAssertion(current, m, {
                key: me.key,
                other: them.key,
                otherBody: () => ({
                  factor: "webauthn",
                  response: them.key.authenticate(target, { ignoreLists: true }),
                }),
                origin: f.webauthnOrigin,
                rpID: f.rpID,
                factorIds: {
                  totp: me.factorIds.totp,
                  email: me.factorIds.email,
                  theirs: them.factorIds.webauthn,
                },
              });
            } catch {
              continue;
            }
            text = out.text;
            verdict = worst(verdict, out.verdict);
            counter = out.counter;
            if (out.sig) sigBroken = out.sig === "breaks";
            try {
              current = JSON.parse(text) as Json;
            } catch {
              break;
            }
          }
          // A signature left broken (not re-signed by a later mutation) proves nothing.
          if (sigBroken) verdict = "never";
          // The counter must grow past the last one accepted (both zero: no counter kept).
          if (counter !== undefined && !(counter > accepted[who] || (counter === 0 && accepted[who] === 0)))
            verdict = "never";
        }
        const req = browserRequest(
          f,
          who,
          me.client,
          "POST",
          `/stepup/api/challenges/${challengeId}/verify`,
          {
            text,
            type: "application/json",
          },
        );
        const { res, json, granted } = await step(
          f,
          who,
          me.client,
          req,
          verdict,
          () => `verify ${text.slice(0, 600)}`,
        );
        if (json.error === "invalid_code") {
          refusals++;
          used = true;
        }
        if (res.status === 200) {
          used = true;
          expect(granted.length, res.text).toBeGreaterThan(0);
          grants++;
          proved.add(who);
          if (counter !== undefined) accepted[who] = counter;
          // The challenge is used up: nothing more can prove in this run.
          options = undefined;
          previous = undefined;
        }
      }
      await endRun(f, proved);
    }),
    fuzzParams(runs, scale),
  );
  expect(
    grants,
    "no real assertion ever granted: the harness does not reach the signature check",
  ).toBeGreaterThan(0);
  expect(refusals).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// WebAuthn registration (a newcomer's first factor: no step-up in the way)

type RegistrationMutation =
  | { kind: "intact" }
  | { kind: "tamper"; tamper: "origin" | "rpID" | "challenge" | "up" | "uv" | "crossOrigin" }
  | { kind: "replace"; path: readonly string[]; value: unknown }
  | { kind: "drop"; path: readonly string[] }
  | { kind: "bits"; field: "clientDataJSON" | "attestationObject" | "id"; bits: Bits }
  | { kind: "clientData"; change: ClientDataChange }
  | { kind: "takenId" }
  | { kind: "twice" }
  | { kind: "otherEnrollment" }
  | { kind: "cbor"; edit: AttestationEdit };

const REGISTRATION_FIELDS = [
  ["response"],
  ["response", "id"],
  ["response", "rawId"],
  ["response", "type"],
  ["response", "response"],
  ["response", "response", "clientDataJSON"],
  ["response", "response", "attestationObject"],
  ["response", "response", "transports"],
  ["response", "clientExtensionResults"],
  ["response", "authenticatorAttachment"],
  ["name"],
] as const;
const REGISTRATION_HINTS = new Set(["response.clientExtensionResults", "response.authenticatorAttachment"]);

const registrationMutationArb: fc.Arbitrary<RegistrationMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: "intact" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("tamper" as const),
      tamper: fc.constantFrom("origin", "rpID", "challenge", "up", "uv", "crossOrigin") as fc.Arbitrary<
        "origin" | "rpID" | "challenge" | "up" | "uv" | "crossOrigin"
      >,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("replace" as const),
      path: fc.constantFrom(...REGISTRATION_FIELDS) as fc.Arbitrary<readonly string[]>,
      value: garbage,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("drop" as const),
      path: fc.constantFrom(...REGISTRATION_FIELDS) as fc.Arbitrary<readonly string[]>,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bits" as const),
      field: fc.constantFrom("clientDataJSON", "attestationObject", "id") as fc.Arbitrary<
        "clientDataJSON" | "attestationObject" | "id"
      >,
      bits: bitsArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("clientData" as const), change: clientDataChangeArb }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "takenId" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "twice" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "otherEnrollment" as const }) },
  { weight: 8, arbitrary: attestationEditArb.map((edit) => ({ kind: "cbor" as const, edit })) },
);

/** A registration start's body: usually empty, sometimes a name and an attachment, or anything. */
const registrationStartArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<unknown>({}) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        name: fc.oneof(fuzzString, garbage),
        authenticatorAttachment: fc.oneof(
          fc.constantFrom<unknown>("platform", "cross-platform", "PLATFORM"),
          garbage,
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: garbage },
);

type Post = (
  path: string,
  value: unknown,
  verdict: Verdict,
  text?: string,
) => Promise<{ res: FuzzResponse; json: Json; granted: StepUpEvent[] }>;

/** A client's POSTs as steps (checked, cookies kept in its jar). */
const poster =
  (f: CeremonyFixture, c: Client): Post =>
  (path, value, verdict, text = JSON.stringify(value) ?? "null") =>
    step(
      f,
      "newcomer",
      c,
      browserRequest(f, "newcomer", c, "POST", path, { text, type: "application/json" }),
      verdict,
      () => `${path} ${text.slice(0, 600)}`,
    );

/**
 * A real registration of `options` by a new software authenticator, bent by `m`: the body, where
 * to confirm it, the verdict on its content (`may` when nothing checked was changed), and the
 * authenticator. `post` is the starting browser's (another enrollment is started there).
 */
async function bentRegistration(
  f: CeremonyFixture,
  m: RegistrationMutation,
  factorId: string,
  options: Parameters<SoftAuthenticator["register"]>[0],
  post: Post,
): Promise<{ body: Json; path: string; verdict: Verdict; key: SoftAuthenticator }> {
  const key = softAuthenticator({
    rpID: f.rpID,
    origin: f.webauthnOrigin,
    ...(m.kind === "takenId" ? { credentialId: unb64(f.accounts.victim.key.credentialId) } : {}),
  });
  const tampers = {
    origin: { origin: "http://evil.example" },
    rpID: { rpID: "evil.example" },
    challenge: { challenge: b64(sha256("another")) },
    up: { up: false },
    uv: { uv: false },
    crossOrigin: { crossOrigin: true },
  } as const;
  const real = key.register(options, m.kind === "tamper" ? tampers[m.tamper] : {});
  const body: Json = { response: real };
  const inner = real.response as unknown as Json;
  let verdict: Verdict = "may";
  let path = `/stepup/api/factors/webauthn/${factorId}/confirm`;
  if (m.kind === "tamper") verdict = m.tamper === "uv" ? "may" : "never";
  else if (m.kind === "replace") {
    const name = m.path.join(".");
    const before = getPath(body, m.path);
    setPath(body, m.path, m.value);
    const harmless =
      REGISTRATION_HINTS.has(name) ||
      sameJson(before, m.value) ||
      // A name is the user's to choose (refused when malformed); transports are filtered hints.
      name === "name" ||
      (name === "response.response.transports" && Array.isArray(m.value));
    verdict = harmless ? "may" : "never";
  } else if (m.kind === "drop") {
    const name = m.path.join(".");
    setPath(body, m.path, undefined, true);
    verdict =
      REGISTRATION_HINTS.has(name) || name === "name" || name === "response.response.transports"
        ? "may"
        : "never";
  } else if (m.kind === "bits") {
    const cred = body.response as Json;
    if (m.field === "id") {
      cred.id = bend(String(cred.id), m.bits);
      cred.rawId = cred.id;
      verdict = unb64(String(cred.id)).equals(unb64(real.id)) && cred.id !== "" ? "may" : "never";
    } else if (m.field === "attestationObject") {
      // With attestation "none" nothing in it is signed: most of its bytes (AAGUID, counter, the
      // public key) are the authenticator's to choose; what is checked (RP ID hash, flags, the
      // credential id) is bent by the tampers above. But the real object with bytes after it
      // (doubled, grown) never registers: the server wants exactly one CBOR item.
      const before = unb64(String(inner[m.field]));
      inner[m.field] = bend(String(inner[m.field]), m.bits);
      const after = unb64(String(inner[m.field]));
      const extended = after.length > before.length && after.subarray(0, before.length).equals(before);
      verdict = inner[m.field] === "" || extended ? "never" : "may";
    } else {
      const before = unb64(String(inner[m.field]));
      inner[m.field] = bend(String(inner[m.field]), m.bits);
      // Nothing signs a registration's client data ("none"): bent bytes prove what they still
      // say, judged as the server reads them (the same type, challenge and origin, not framed).
      const read = (bytes: Buffer): Json | undefined => {
        try {
          const v = JSON.parse(bytes.toString("utf8")) as unknown;
          return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
        } catch {
          return undefined;
        }
      };
      const was = read(before);
      const now = read(unb64(String(inner[m.field])));
      const same =
        now !== undefined &&
        was !== undefined &&
        BASE64URL.test(String(inner[m.field])) &&
        ["type", "challenge", "origin"].every((k) => sameJson(now[k], was[k])) &&
        now.crossOrigin !== true &&
        now.topOrigin === undefined;
      verdict = same ? "may" : "never";
    }
  } else if (m.kind === "clientData") {
    const ch = m.change;
    const data = JSON.parse(unb64(String(inner.clientDataJSON)).toString("utf8")) as Json;
    if (ch.field === "bytes") {
      inner.clientDataJSON = b64(Buffer.from(ch.text, "utf8"));
      verdict = "never";
    } else if (ch.field === "extra") {
      verdict = setClientDataKey(data, ch.name, ch.value);
      inner.clientDataJSON = b64(Buffer.from(JSON.stringify(data)));
    } else if (ch.field === "drop") {
      delete data[ch.name];
      inner.clientDataJSON = b64(Buffer.from(JSON.stringify(data)));
      verdict = ch.name === "crossOrigin" ? "may" : "never";
    } else if (ch.field === "duplicate") {
      const rest = JSON.stringify(data).slice(1, -1);
      const wrong = `${JSON.stringify(ch.name)}:${JSON.stringify(ch.wrong)}`;
      inner.clientDataJSON = b64(Buffer.from(ch.rightLast ? `{${wrong},${rest}}` : `{${rest},${wrong}}`));
      // (The "wrong" value may be the right one here: "webauthn.create" is a registration's type.)
      verdict = ch.rightLast || sameJson(data[ch.name], ch.wrong) ? "may" : "never";
    } else {
      const v = ch.value === "$origin" ? f.webauthnOrigin : ch.value;
      verdict = sameJson(data[ch.field], v) ? "may" : "never";
      data[ch.field] = v;
      inner.clientDataJSON = b64(Buffer.from(JSON.stringify(data)));
    }
  } else if (m.kind === "takenId") verdict = "never";
  else if (m.kind === "otherEnrollment") {
    // Another pending enrollment of the newcomer's (its challenge is not this one's).
    const other = await post("/stepup/api/factors/webauthn", {}, "never");
    path = `/stepup/api/factors/webauthn/${String(other.json.factorId)}/confirm`;
    verdict = "never";
  } else if (m.kind === "cbor") {
    // One thing in the attestation object changed at the CBOR level (see attestation-edits.ts for
    // the verdict on each edit and why); a changed credential id is reported as the browser would.
    const e = editAttestation(unb64(String(inner.attestationObject)), m.edit, {
      rpID: f.rpID,
      clientDataHash: sha256(unb64(String(inner.clientDataJSON))),
      sign: (data) => key.sign(data),
    });
    inner.attestationObject = b64(e.attestationObject);
    if (e.reportId !== undefined) {
      const cred = body.response as Json;
      cred.id = e.reportId;
      cred.rawId = e.reportId;
    }
    verdict = e.verdict;
  }
  return { body, path, verdict, key };
}

/**
 * A key that registered steps up (else the registration locked its user out): a challenge, a start
 * naming the new factor, and the authenticator's assertion, under the credential id and past the
 * counter the registration's authenticator data gave the server, verifies.
 */
async function expectStepsUp(
  c: Client,
  factorId: string,
  key: SoftAuthenticator,
  sent: Json,
  label: string,
): Promise<void> {
  const object = isoCBOR.decodeFirst<Map<string, unknown>>(
    new Uint8Array(unb64(String(getPath(sent, ["response", "response", "attestationObject"])))),
  );
  const authData = Buffer.from(object.get("authData") as Uint8Array);
  const counter = authData.readUInt32BE(33);
  const id = b64(authData.subarray(55, 55 + authData.readUInt16BE(53)));
  const opened = await c.call("POST", "/stepup/api/challenges", {
    json: { resource: "data", action: "export" },
  });
  const challengeId = String(opened.json.challengeId);
  const started = await c.call("POST", `/stepup/api/challenges/${challengeId}/start`, {
    json: { factor: "webauthn", factorId },
  });
  expect(started.status, started.text).toBe(200);
  const response = key.authenticate(
    started.json.options as Parameters<SoftAuthenticator["authenticate"]>[0],
    {
      ignoreLists: true,
      ...(id === key.credentialId ? {} : { reportId: id }),
      ...(counter > 0 ? { signCount: counter + 1 } : {}),
    },
  );
  const verified = await c.call("POST", `/stepup/api/challenges/${challengeId}/verify`, {
    json: { factor: "webauthn", factorId, response },
  });
  expect(
    verified.status,
    `registered, and its key does not step up (a lockout): ${label}\n${verified.text}`,
  ).toBe(200);
}

/**
 * A newcomer registers a security key: the start with a generated body, then a real registration
 * of its options bent by a mutation (JSON, bytes, or one CBOR-level edit of the attestation
 * object). `factor.enrolled` only for a registration the model says proves (with attestation
 * "none" nothing is signed: the client data and authenticator data are what the server checks),
 * and a key that registered then steps up.
 */
export async function webauthnRegistrationProperty(f: CeremonyFixture, runs: number, scale: number) {
  let newcomer = await f.newcomer();
  let enrolled = 0;
  await fc.assert(
    fc.asyncProperty(registrationStartArb, registrationMutationArb, async (start, m) => {
      await f.world.startRun();
      newcomer = await unenrolled(f, newcomer);
      const c = newcomer.client;
      const post = poster(f, c);
      let started = await post("/stepup/api/factors/webauthn", start, "never");
      if (started.res.status !== 201) started = await post("/stepup/api/factors/webauthn", {}, "never");
      expect(started.res.status, started.res.text).toBe(201);
      const factorId = String(started.json.factorId);
      const options = started.json.options as Parameters<SoftAuthenticator["register"]>[0];
      const { body, path, verdict, key } = await bentRegistration(f, m, factorId, options, post);
      const first = await post(path, body, verdict);
      let granted = first.granted.length > 0;
      if (m.kind === "twice") {
        // The same registration again: its challenge was used by the first attempt.
        const again = await post(path, body, "never");
        granted ||= again.granted.length > 0;
      }
      if (first.res.status === 200) await expectStepsUp(c, factorId, key, body, JSON.stringify(m));
      await endRun(f, new Set(), granted);
      if (granted) enrolled++;
    }),
    fuzzParams(runs, scale),
  );
  expect(
    enrolled,
    "no real registration ever enrolled: the harness does not reach the checks",
  ).toBeGreaterThan(0);
}

/**
 * A user who has a factor (a security key) registers another: that needs a fresh step-up
 * (`stepup:factor.add`), proved with the first key. With it, the registration is fuzzed as a
 * newcomer's (and a key that registered steps up); without it (a browser of the same user that did
 * not step up confirming an enrollment another one started, its own start refused) nothing ever
 * registers.
 */
export async function webauthnSecondRegistrationProperty(f: CeremonyFixture, runs: number, scale: number) {
  const user = await f.newcomer();
  const firstKey = softAuthenticator({ rpID: f.rpID, origin: f.webauthnOrigin });
  const began = await expectStatus(
    user.client.call("POST", "/stepup/api/factors/webauthn", { json: {} }),
    201,
  );
  const firstId = String(began.factorId);
  await expectStatus(
    user.client.call("POST", `/stepup/api/factors/webauthn/${firstId}/confirm`, {
      json: { response: firstKey.register(began.options as Parameters<SoftAuthenticator["register"]>[0]) },
    }),
    200,
  );
  /** A new browser of the user's: signed in, no step-up yet. */
  const browser = () => new Client(f.world.target, user.client.appSession);
  /** The step-up adding a factor asks for, proved with the first key. */
  const stepUp = async (c: Client) => {
    const asked = await c.call("POST", "/stepup/api/factors/webauthn", { json: {} });
    expect({ status: asked.status, error: asked.json.error }, asked.text).toEqual({
      status: 401,
      error: "step_up_required",
    });
    const challenge = `/stepup/api/challenges/${String(asked.json.challengeId)}`;
    const started = await expectStatus(
      c.call("POST", `${challenge}/start`, { json: { factor: "webauthn", factorId: firstId } }),
      200,
    );
    const response = firstKey.authenticate(
      started.options as Parameters<SoftAuthenticator["authenticate"]>[0],
    );
    await expectStatus(
      c.call("POST", `${challenge}/verify`, { json: { factor: "webauthn", factorId: firstId, response } }),
      200,
    );
  };
  let enrolled = 0;
  let refused = 0;
  const steppedUpArb = fc.oneof(
    { weight: 3, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  );
  await fc.assert(
    fc.asyncProperty(
      steppedUpArb,
      registrationStartArb,
      registrationMutationArb,
      async (steppedUp, start, m) => {
        await f.world.startRun();
        const c = browser();
        // Without a step-up: this browser's own start is refused, and it confirms an enrollment a
        // stepped-up browser of the same user started (a pending enrollment is no step-up).
        const starter = steppedUp ? c : browser();
        if (steppedUp) await stepUp(c);
        else {
          const own = await poster(f, c)("/stepup/api/factors/webauthn", start, "never");
          expect(own.res.status, own.res.text).not.toBe(201);
          await stepUp(starter);
        }
        const startPost = poster(f, starter);
        let started = await startPost("/stepup/api/factors/webauthn", start, "never");
        if (started.res.status !== 201)
          started = await startPost("/stepup/api/factors/webauthn", {}, "never");
        expect(started.res.status, started.res.text).toBe(201);
        const factorId = String(started.json.factorId);
        const options = started.json.options as Parameters<SoftAuthenticator["register"]>[0];
        const bent = await bentRegistration(f, m, factorId, options, startPost);
        const verdict = steppedUp ? bent.verdict : "never";
        const post = poster(f, c);
        const first = await post(bent.path, bent.body, verdict);
        if (m.kind === "twice") await post(bent.path, bent.body, "never");
        if (!steppedUp) {
          expect(first.res.status, first.res.text).not.toBe(200);
          refused++;
        }
        if (first.res.status === 200) {
          enrolled++;
          await expectStepsUp(c, factorId, bent.key, bent.body, JSON.stringify(m));
        }
        // (The step-up itself was a verification: only the fixture's two users must have none.)
        await endRun(f, new Set(), true);
      },
    ),
    fuzzParams(runs, scale),
  );
  expect(
    enrolled,
    "no stepped-up registration ever enrolled: the harness does not reach the checks",
  ).toBeGreaterThan(0);
  expect(refused, "no registration was tried without the step-up").toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// Email and SMS: sends, resends and codes of every shape on a challenge

type Channel = "email" | "sms";

/** What goes in a `code` field: the code that was sent (in some spelling), another, or anything. */
type CodeValue =
  | {
      right: Channel | "$same";
      spelling: "exact" | "spaced" | "dashed" | "padded" | "number" | "array" | "object" | "longer";
    }
  | { theirs: Channel }
  | { other: unknown };

const codeValueArb: fc.Arbitrary<CodeValue> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      right: fc.constantFrom("$same", "$same", "$same", "email", "sms") as fc.Arbitrary<Channel | "$same">,
      spelling: fc.constantFrom(
        "exact",
        "exact",
        "spaced",
        "dashed",
        "padded",
        "number",
        "array",
        "object",
        "longer",
      ),
    }) as fc.Arbitrary<CodeValue>,
  },
  { weight: 1, arbitrary: fc.record({ theirs: fc.constantFrom("email", "sms") as fc.Arbitrary<Channel> }) },
  {
    weight: 4,
    arbitrary: fc.record({
      other: fc.oneof(
        fc.stringMatching(/^[0-9]{6}$/),
        fc.stringMatching(/^[0-9]{1,8}$/),
        fc.constantFrom(
          "",
          " ",
          "000000",
          "999999",
          "12345",
          "1234567",
          "１２３４５６",
          "12 34 56",
          "٠١٢٣٤٥",
        ),
        garbage,
      ),
    }),
  },
);

/** A factor id as a request names it: the right one for its type, another of the caller's, theirs, none, anything. */
type FactorIdValue = "none" | "right" | "totp" | "webauthn" | "otherChannel" | "theirs" | { any: unknown };
const factorIdArb: fc.Arbitrary<FactorIdValue> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<FactorIdValue>("none", "right") },
  { weight: 2, arbitrary: fc.constantFrom<FactorIdValue>("totp", "webauthn", "otherChannel", "theirs") },
  { weight: 1, arbitrary: garbage.map((any) => ({ any })) },
);

type CodeStep =
  | { do: "send"; channel: Channel; factor: unknown; factorId: FactorIdValue; via: "api" | "page" }
  | {
      do: "verify";
      channel: Channel;
      factor: unknown;
      factorId: FactorIdValue;
      code: CodeValue;
      via: "api" | "page";
      extra: [string, unknown][];
    }
  | { do: "raw"; route: "start" | "verify"; text: string; type: string };

const channelArb = fc.constantFrom("email", "sms") as fc.Arbitrary<Channel>;
/** The `factor` field: usually the channel's own name, sometimes the other's or anything. */
const factorFieldArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant("$channel") },
  { weight: 2, arbitrary: fc.constantFrom<unknown>("email", "sms", "totp", "webauthn", "recovery", "EMAIL") },
  { weight: 1, arbitrary: garbage },
);

const codeStepArb: fc.Arbitrary<CodeStep> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      do: fc.constant("send" as const),
      channel: channelArb,
      factor: factorFieldArb,
      factorId: factorIdArb,
      via: fc.constantFrom("api", "api", "page") as fc.Arbitrary<"api" | "page">,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      do: fc.constant("verify" as const),
      channel: channelArb,
      factor: factorFieldArb,
      factorId: factorIdArb,
      code: codeValueArb,
      via: fc.constantFrom("api", "api", "page") as fc.Arbitrary<"api" | "page">,
      extra: fc.oneof(
        { weight: 4, arbitrary: fc.constant<[string, unknown][]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.tuple(
              fc.constantFrom("rememberDevice", "code", "factor", "__proto__", "intent", "csrf"),
              garbage,
            ),
            { maxLength: 2 },
          ),
        },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      do: fc.constant("raw" as const),
      route: fc.constantFrom("start", "verify") as fc.Arbitrary<"start" | "verify">,
      text: fc.oneof(
        fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }).map((v) => JSON.stringify(v) ?? "null"),
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.constantFrom('{"factor":"email","factor":"sms"}', '{"factor":"email","code":"1","code":"2"}', "{"),
      ),
      type: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
    }),
  },
);

function codeSpelling(
  code: string,
  spelling: Extract<CodeValue, { spelling: unknown }>["spelling"],
): unknown {
  switch (spelling) {
    case "exact":
      return code;
    case "spaced":
      return `${code.slice(0, 3)} ${code.slice(3)}`;
    case "dashed":
      return `${code.slice(0, 3)}-${code.slice(3)}`;
    case "padded":
      return ` ${code}\t`;
    case "number":
      return Number(code);
    case "array":
      return [code];
    case "object":
      return { code };
    case "longer":
      return `${code}0`;
  }
}

/** The code a `code` value carries, as the server reads it (whitespace and dashes dropped). */
const readAs = (value: unknown) => (typeof value === "string" ? value.replace(/[\s-]/g, "") : undefined);

/**
 * Codes by email and SMS on the caller's own challenge: sends and resends (API and page) naming the
 * factor every way, and verifications with the code that was sent (in every spelling), the other
 * user's, or anything, in JSON or the page's form. A grant event only after a verification that
 * carried the live code of the channel it names (and of the caller's own factor); at least one
 * such verification granted over the property.
 */
export async function codeFactorsProperty(f: CeremonyFixture, runs: number, scale: number) {
  let grants = 0;
  let sends = 0;
  const runArb = fc.record({
    who: fc.constantFrom(...WHO),
    // Most runs first have a code sent the plain way, so the steps after it meet a live code.
    prologue: fc.option(channelArb, { freq: 4, nil: undefined }),
    steps: fc.array(codeStepArb, { minLength: 1, maxLength: 6 }),
    // And many end with the plain right answer (API or page): whatever came before, may it prove?
    epilogue: fc.option(fc.constantFrom<"api" | "page">("api", "page"), { freq: 3, nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(runArb, async ({ who, prologue, steps: generated, epilogue }) => {
      const first: CodeStep = {
        do: "send",
        channel: prologue ?? "email",
        factor: "$channel",
        factorId: "none",
        via: "api",
      };
      const last: CodeStep = {
        do: "verify",
        channel: prologue ?? "email",
        factor: "$channel",
        factorId: "none",
        code: { right: "$same", spelling: "exact" },
        via: epilogue ?? "api",
        extra: [],
      };
      const steps = [...(prologue ? [first] : []), ...generated, ...(epilogue ? [last] : [])];
      await f.world.startRun();
      const me = f.accounts[who];
      const them = f.accounts[who === "victim" ? "attacker" : "victim"];
      const challengeId = f.world.own[who].challenge?.[0] ?? "missing";
      /** The live code of each channel on this run's challenge (what was sent last). */
      const live = new Map<Channel, string>();
      const theirCodes = new Map<Channel, string>();
      const proved = new Set<Who>();
      for (const channel of ["email", "sms"] as const) {
        const last = lastCode(f, them, channel);
        if (last) theirCodes.set(channel, last);
      }
      const idOf = (v: FactorIdValue, channel: Channel): unknown => {
        if (v === "none") return undefined;
        if (v === "right") return me.factorIds[channel];
        if (v === "otherChannel") return me.factorIds[channel === "email" ? "sms" : "email"];
        if (v === "theirs") return them.factorIds[channel];
        if (v === "totp" || v === "webauthn") return me.factorIds[v];
        return v.any;
      };
      for (const s of steps) {
        let req: RawRequest;
        let verdict: Verdict = "never";
        let label: string;
        let sentVia: Channel | undefined;
        const before = { mail: f.channels.smtp.messages.length, sms: f.channels.sms.messages.length };
        if (s.do === "raw") {
          req = browserRequest(
            f,
            who,
            me.client,
            "POST",
            `/stepup/api/challenges/${challengeId}/${s.route}`,
            {
              text: s.text,
              type: s.type,
            },
          );
          label = `raw ${s.route} ${s.text}`;
        } else {
          // A verification names the channel a code went to last, if the one drawn has none live.
          const channel =
            s.do === "verify" && !live.has(s.channel) ? ([...live.keys()].pop() ?? s.channel) : s.channel;
          const factor = s.factor === "$channel" ? channel : s.factor;
          const factorId = idOf(s.factorId, channel);
          const fields: [string, unknown][] = [["factor", factor]];
          if (factorId !== undefined) fields.push(["factorId", factorId]);
          if (s.do === "verify") {
            const c = s.code;
            let code: unknown;
            if ("right" in c)
              code = codeSpelling(live.get(c.right === "$same" ? channel : c.right) ?? "123456", c.spelling);
            else if ("theirs" in c) code = theirCodes.get(c.theirs) ?? "123456";
            else code = c.other;
            fields.push(["code", code], ...s.extra);
            // Proves only: the live code of the channel the body names, for the caller's own factor
            // of it, read as the server reads it, and no extra field overriding any of it.
            const named = factor === "email" || factor === "sms" ? factor : undefined;
            const liveCode = named ? live.get(named) : undefined;
            const ownFactor =
              factorId === undefined || (named !== undefined && factorId === me.factorIds[named]);
            // (In JSON an extra field replaces the value; a form keeps both, and either may be read.)
            const overridden = s.via === "api" && s.extra.some(([k]) => k === "code" || k === "factor");
            // (A form sends every value as text: the number 123456 is the code "123456" there.)
            const asSent = s.via === "page" && typeof code !== "string" ? (JSON.stringify(code) ?? "") : code;
            if (liveCode && readAs(asSent) === liveCode && ownFactor && !overridden) verdict = "may";
          } else sentVia = factor === "email" || factor === "sms" ? factor : undefined;
          label = `${s.do} via ${s.via} ${JSON.stringify(fields)}`;
          if (s.via === "api") {
            const body: Json = {};
            for (const [k, v] of fields)
              Object.defineProperty(body, k, {
                value: v,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            req = browserRequest(
              f,
              who,
              me.client,
              "POST",
              `/stepup/api/challenges/${challengeId}/${s.do === "send" ? "start" : "verify"}`,
              jsonBody(body),
            );
          } else {
            const form: [string, unknown][] = [["csrf", CSRF], ["intent", s.do], ...fields];
            const csrf = f.world.csrf(`${me.id}:${challengeId}`);
            const text = form
              .map(([k, v]) => {
                const value = v === CSRF ? csrf : typeof v === "string" ? v : (JSON.stringify(v) ?? "");
                return `${encodeURIComponent(k)}=${encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, "?"))}`;
              })
              .join("&");
            req = browserRequest(f, who, me.client, "POST", `/stepup/challenge/${challengeId}`, {
              text,
              type: "application/x-www-form-urlencoded",
              accept: "text/html",
            });
          }
        }
        const { res, granted } = await step(f, who, me.client, req, verdict, () => label);
        // What arrived: exactly the codes the send answered for, to the factor's own destination.
        // (Security notices, sent in the background, carry no code: not this step's.)
        const mails = f.channels.smtp.messages.slice(before.mail).filter(isCodeMail);
        const texts = f.channels.sms.messages.slice(before.sms);
        for (const m of mails) expect(m.to, `${label}: ${m.subject}`).toBe(me.address.toLowerCase());
        for (const m of texts) expect(m.to, label).toBe(me.phone);
        if (mails.length + texts.length > 0) {
          sends++;
          expect(s.do === "raw" || s.do === "send", `a code was sent by ${label}`).toBe(true);
          expect(mails.length + texts.length, label).toBe(1);
          const channel: Channel = mails.length > 0 ? "email" : "sms";
          if (sentVia !== undefined && s.do !== "raw") expect(channel, label).toBe(sentVia);
          live.set(channel, (mails[0] ?? texts[0])?.code ?? "");
        }
        if (granted.length > 0) {
          grants++;
          proved.add(who);
          // The challenge is used up: no code of it proves again.
          live.clear();
        }
        if (res.status === 200 && s.do === "verify" && s.via === "api")
          expect(granted.length, res.text).toBeGreaterThan(0);
      }
      await endRun(f, proved);
    }),
    fuzzParams(runs, scale),
  );
  expect(sends, "no code was ever sent").toBeGreaterThan(0);
  expect(grants, "no right code ever granted: the harness does not reach the code check").toBeGreaterThan(0);
}

/** The last code sent to an account's address or number (before this run), if any. */
function lastCode(f: CeremonyFixture, account: CeremonyAccount, channel: Channel): string | undefined {
  const list =
    channel === "email"
      ? f.channels.smtp.messages.filter((m) => m.to === account.address.toLowerCase())
      : f.channels.sms.messages.filter((m) => m.to === account.phone);
  return list[list.length - 1]?.code || undefined;
}

// ---------------------------------------------------------------------------------------------
// Enrolling an address or a number: hostile destinations, confirmations of every shape

/** Addresses of every kind: header injections, control characters, Unicode, overlong, lists. */
const ADDRESSES = [
  "a@b.c\r\nBcc: x@y.example",
  "a@b.example\r\nBcc: x@y.example",
  "a@b.example\nBcc: x@y.example",
  "a@b.example\rBcc: x@y.example",
  "a@b.example%0d%0aBcc:x@y.example",
  "a@b.example\u0085Bcc: x@y.example",
  "a@b.example\u2028Bcc: x@y.example",
  "a\u0000@b.example",
  "a@b.example\u0000x@y.example",
  "a\u0007b@b.example",
  "a\u001b[31m@b.example",
  "a@b.example, x@y.example",
  "a@b.example;x@y.example",
  '"a\r\nBcc: x@y.example"@b.example',
  "<a@b.example>",
  "Name <a@b.example>",
  " a@b.example ",
  "A@B.EXAMPLE",
  "ü@exämple.example",
  "用户@例子.广告",
  "a@xn--exmple-cua.example",
  "a+tag@b.example",
  "a@b.example.",
  "a@[127.0.0.1]",
  "a@localhost",
  "@b.example",
  "a@",
  "a@@b.example",
  `${"a".repeat(64)}@b.example`,
  `${"a".repeat(65)}@b.example`,
  `a@${"b".repeat(250)}.example`,
  "a\u202e@b.example",
  "a@b.example\t",
];
const PHONES = [
  "+15551234567\r\nX: y",
  "+1555123456\u0000",
  "+1 (555) 123-4567",
  "+1.555.123.4567",
  "+１５５５１２３４５６７",
  "+٠١٥٥٥١٢٣٤٥٦٧",
  "15551234567",
  "+0123456789",
  "+1234567",
  "+1234567890123456",
  "+15551234567,+15557654321",
  "+15551234567;ext=1",
  "tel:+15551234567",
  "+1555123456７",
  " +15551234567 ",
  "+44 7700 900123",
  "+881234567890",
  "+",
  "",
];

type EnrolStep =
  | { do: "start"; channel: Channel; destination: unknown; extra: [string, unknown][] }
  | { do: "confirm"; channel: Channel; which: "last" | "other" | { any: unknown }; code: CodeValue };

const destinationArb = (channel: Channel): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant("$fresh") },
    { weight: 4, arbitrary: fc.constantFrom<unknown>(...(channel === "email" ? ADDRESSES : PHONES)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom("$fresh"), fuzzString, fc.constantFrom("prefix", "suffix", "middle"))
        .map(([, s, where]) => ({ $fresh: where, s })),
    },
    { weight: 1, arbitrary: garbage },
  );

const enrolStepArb: fc.Arbitrary<EnrolStep> = fc.oneof(
  {
    weight: 3,
    arbitrary: channelArb.chain((channel) =>
      fc.record({
        do: fc.constant("start" as const),
        channel: fc.constant(channel),
        destination: destinationArb(channel),
        extra: fc.oneof(
          { weight: 4, arbitrary: fc.constant<[string, unknown][]>([]) },
          {
            weight: 1,
            arbitrary: fc.array(fc.tuple(fc.constantFrom("email", "phone", "name", "__proto__"), garbage), {
              maxLength: 2,
            }),
          },
        ),
      }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      do: fc.constant("confirm" as const),
      channel: channelArb,
      which: fc.oneof(
        { weight: 6, arbitrary: fc.constant<"last" | "other">("last") },
        { weight: 1, arbitrary: fc.constant<"last" | "other">("other") },
        { weight: 1, arbitrary: garbage.map((any) => ({ any })) },
      ),
      code: codeValueArb,
    }),
  },
);

/** A fresh, deliverable destination for a channel. */
const freshDestination = (channel: Channel) =>
  channel === "email" ? `enrol-${crypto.randomUUID().slice(0, 12)}@example.com` : phoneOf();

/**
 * A newcomer enrols an address or a number (its first factor: no step-up in the way) with hostile
 * destinations, then confirms with the code that arrived (in every spelling), another, or anything.
 * What reaches the SMTP server has exactly one recipient and no Cc or Bcc; what reaches the SMS
 * webhook is one E.164 number and a one-line text. `factor.enrolled` only after the code that was
 * sent for that very enrollment.
 */
export async function codeEnrolmentProperty(f: CeremonyFixture, runs: number, scale: number) {
  let newcomer = await f.newcomer();
  let enrolled = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.option(channelArb, { freq: 4, nil: undefined }),
      fc.array(enrolStepArb, { minLength: 1, maxLength: 5 }),
      fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      async (prologue, generated, epilogue) => {
        // Most runs first start an enrollment to a deliverable destination: the steps meet its code.
        const first: EnrolStep = {
          do: "start",
          channel: prologue ?? "email",
          destination: "$fresh",
          extra: [],
        };
        // And many end with the plain right answer: whatever came before, may it prove?
        const last: EnrolStep = {
          do: "confirm",
          channel: prologue ?? "email",
          which: "last",
          code: { right: "$same", spelling: "exact" },
        };
        const steps = [...(prologue ? [first] : []), ...generated, ...(epilogue ? [last] : [])];
        await f.world.startRun();
        newcomer = await unenrolled(f, newcomer);
        const c = newcomer.client;
        /** The last enrollment started per channel: its factor id and the code that arrived for it. */
        const pending = new Map<Channel, { factorId: string; code: string }>();
        const older: string[] = [];
        let replace = false;
        for (const s of steps) {
          const before = { mail: f.channels.smtp.messages.length, sms: f.channels.sms.messages.length };
          let path: string;
          const body: Json = {};
          let verdict: Verdict = "never";
          let destination: unknown;
          if (s.do === "start") {
            const d = s.destination;
            const fresh = freshDestination(s.channel);
            if (d === "$fresh") destination = fresh;
            else if (typeof d === "object" && d !== null && "$fresh" in d) {
              const { $fresh: where, s: bit } = d as { $fresh: string; s: string };
              destination =
                where === "prefix"
                  ? bit + fresh
                  : where === "suffix"
                    ? fresh + bit
                    : fresh.replace("@", `${bit}@`);
            } else destination = d;
            body[s.channel === "email" ? "email" : "phone"] = destination;
            for (const [k, v] of s.extra)
              Object.defineProperty(body, k, {
                value: v,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            path = `/stepup/api/factors/${s.channel}`;
          } else {
            // A confirmation goes to the channel an enrollment was started on, if the drawn one has none.
            const channel = pending.has(s.channel) ? s.channel : ([...pending.keys()].pop() ?? s.channel);
            const p = pending.get(channel);
            const factorId = s.which === "last" ? p?.factorId : s.which === "other" ? older[0] : s.which.any;
            // (Cut to fit a request line: past 16 KiB Node answers 431 itself, before the app.)
            const id = encode(String(factorId ?? "missing"))
              .slice(0, 6000)
              .replace(/%[0-9A-F]?$/, "");
            path = `/stepup/api/factors/${channel}/${id}/confirm`;
            const cv = s.code;
            body.code =
              "right" in cv
                ? codeSpelling(
                    (cv.right === "$same" || cv.right === channel ? p?.code : pending.get(cv.right)?.code) ??
                      "123456",
                    cv.spelling,
                  )
                : "theirs" in cv
                  ? lastCode(f, f.accounts.victim, cv.theirs)
                  : cv.other;
            if (p && s.which === "last" && readAs(body.code) === p.code) verdict = "may";
          }
          const text = JSON.stringify(body) ?? "null";
          const req = browserRequest(f, "newcomer", c, "POST", path, { text, type: "application/json" });
          const label = `${path} ${text.slice(0, 400)}`;
          const { res, json, granted } = await step(f, "newcomer", c, req, verdict, () => label);
          const all = f.channels.smtp.messages.slice(before.mail);
          // (Security notices, sent in the background, carry no code: not this step's.)
          const mails = all.filter(isCodeMail);
          const texts = f.channels.sms.messages.slice(before.sms);
          for (const m of all) {
            // One recipient, no header smuggled in: whatever the address held.
            expect(m.recipients, label).toHaveLength(1);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
            expect(m.recipients[0] ?? "", label).not.toMatch(/[\r\n\u0000,;]/);
            expect({ cc: m.ccHeader, bcc: m.bccHeader }, label).toEqual({ cc: "", bcc: "" });
            expect(m.toHeader, label).not.toMatch(/[\r\n]|bcc:/i);
          }
          for (const m of texts) {
            expect(m.to, label).toMatch(/^\+[1-9][0-9]{7,14}$/);
            expect(m.text, label).not.toMatch(/[\r\n]/);
          }
          if (s.do === "start") {
            const sent = mails.length + texts.length;
            if (res.status === 201) {
              accepted++;
              expect(sent, `${label}: 201 but ${sent} messages`).toBe(1);
              const p = pending.get(s.channel);
              if (p) older.push(p.factorId);
              pending.set(s.channel, {
                factorId: String(json.factorId),
                code: (mails[0] ?? texts[0])?.code ?? "",
              });
            } else
              expect(
                sent,
                `${label}: ${res.status} but a message was sent: ${mails.map((m) => m.subject)}`,
              ).toBe(0);
          } else if (granted.length > 0) {
            enrolled++;
            replace = true;
            pending.clear();
          }
          // With a factor enrolled, more enrolments need a step-up: later steps only check refusals.
        }
        await endRun(f, new Set(), replace);
      },
    ),
    fuzzParams(runs, scale),
  );
  expect(accepted, "no enrollment ever sent a code").toBeGreaterThan(0);
  expect(enrolled, "no right code ever enrolled: the harness does not reach the code check").toBeGreaterThan(
    0,
  );
}
