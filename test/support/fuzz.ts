// Property-based fuzzing of stepup's HTTP surface (fast-check): requests generated from the
// OpenAPI document the app serves (every path and method, so a new route is fuzzed as soon as it is
// documented), with hostile path parameters, query strings, bodies, content types, headers and
// cookies, sent to an app through a `FuzzTarget` (the Express demo over HTTP, or the Next adapter's
// handlers called in process). The checks every response must pass live here too.
//
// Environment: STEPUP_FUZZ_RUNS (runs per property), STEPUP_FUZZ_SEED and STEPUP_FUZZ_PATH (replay),
// STEPUP_FUZZ_NO_SHRINK=1 (report the first failure as is), STEPUP_FUZZ_STATS=1|detail (print what
// the requests got back, per route and status), STEPUP_FUZZ_SLOW=<ms> (print slower requests),
// STEPUP_FUZZ_COLLECT=1 (print mismatches with the OpenAPI document instead of failing on the first).
import { createHmac, hkdfSync } from "node:crypto";
import { errorStatus } from "@stepup/core";
import type { OpenApiDocument } from "@stepup/http";
import fc from "fast-check";
import { expect } from "vitest";
import { expectNoLeak } from "./demo.js";
import type { OpenApiChecker } from "./openapi-check.js";
import { codeFor, STEP_MS } from "./totp.js";

// ---------------------------------------------------------------------------------------------
// Runs and replay

/**
 * Runs per property: `STEPUP_FUZZ_RUNS` (`npm run fuzz` sets 2000) times `scale` (a property whose
 * runs cost many requests, or a mail each, takes a fraction of it), else `fallback` (the bounded
 * default of `npm test`). `STEPUP_FUZZ_SEED` (and `STEPUP_FUZZ_PATH`) replay a failure fast-check
 * reported; the seed is printed with every counterexample.
 */
export function fuzzParams(fallback: number, scale = 1): fc.Parameters<unknown> {
  const runs = Number(process.env.STEPUP_FUZZ_RUNS);
  const seed = process.env.STEPUP_FUZZ_SEED;
  const path = process.env.STEPUP_FUZZ_PATH;
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? Math.max(1, Math.round(runs * scale)) : fallback,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path, endOnFailure: true } : {}),
    // STEPUP_FUZZ_NO_SHRINK=1: report the first failure as found (shrinking HTTP runs takes a while).
    ...(process.env.STEPUP_FUZZ_NO_SHRINK ? { endOnFailure: true } : {}),
  };
}

/** A timeout for one property's `it`: generous, scaled to the runs (the long run takes minutes). */
export const fuzzTimeout = (fallbackRuns: number, msPerRun: number, scale = 1) =>
  Math.max(60_000, (fuzzParams(fallbackRuns, scale).numRuns ?? fallbackRuns) * msPerRun * 3);

// ---------------------------------------------------------------------------------------------
// Requests and targets

/** A request as it goes on the wire: the raw request target (already encoded), headers, body. */
export interface RawRequest {
  method: string;
  /** Path and query as sent: may hold `..`, `%00` or malformed escapes. */
  target: string;
  headers: [string, string][];
  body?: Uint8Array;
}

export interface FuzzResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** An app under test: sends one request, answers its response. */
export interface FuzzTarget {
  /** `http://host:port`: what a same-origin `Origin` is. */
  readonly origin: string;
  /** The app's own sign-in cookie (the demo's `demo_session`), garbage values go there too. */
  readonly appCookie: string;
  send(request: RawRequest): Promise<FuzzResponse>;
  /** Whether the target can send a body with GET or DELETE, a `Host` header, any method (raw HTTP). */
  readonly raw: boolean;
}

/** A value taken at send time from what the fixture and the run have seen: a real id, cookie, token. */
export interface Ref {
  $pool: PoolName;
  i: number;
  /** Tamper with it: flip one character, cut it, or add to it. */
  mutate?: { kind: "flip" | "cut" | "grow"; at: number };
  /** Taken from the caller's own records (its challenges, its factors) rather than anyone's. */
  own?: true;
}
export type PoolName = "challenge" | "factor" | "device" | "csrf" | "cookie" | "id";
type Str = string | Ref;

/** Who the request is signed in as (the app's own session): whoever it is, they know no code. */
export type Identity = "victim" | "attacker" | "none" | "garbage";

export interface RequestSpec {
  /** `METHOD template` of the operation it was generated from (or of a made-up route). */
  op: string;
  method: string;
  /** Path segments: literal, or a generated parameter. */
  path: (string | { param: Str; raw: boolean })[];
  /** How the path is bent: as documented, one more segment, one fewer, doubled slashes, a trailing slash. */
  bend: "none" | "extra" | "drop" | "slashes" | "trailing";
  query: [Str, Str][];
  identity: Identity;
  /** Sends the cookies the run's responses set (the attacker's browser keeps them). */
  jar: boolean;
  cookies: [string, Str][];
  /** A whole Cookie header of garbage, sent besides the cookies. */
  cookieRaw?: string;
  headers: Record<string, string>;
  body?: BodySpec;
}

export interface BodySpec {
  kind: string;
  contentType?: string;
  /** Text with refs: JSON values carry `{ $pool, i }` objects; forms carry them as values. */
  json?: unknown;
  form?: [Str, Str][];
  text?: string;
  bytes?: Uint8Array;
}

/** Pools of real values: ids of records that exist, cookies and CSRF tokens that were issued. */
export type Pools = Record<PoolName, string[]> & {
  /** The caller's own, by identity (filled in when a request is built). */
  own?: Partial<Record<PoolName, string[]>>;
};

export const emptyPools = (): Pools => ({
  challenge: [],
  factor: [],
  device: [],
  csrf: [],
  cookie: [],
  id: [],
});

// ---------------------------------------------------------------------------------------------
// The operations, from the OpenAPI document

interface DocOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: object }> };
}

export interface Operation {
  method: string;
  template: string;
  /** Segments of the path; `{name}` for a parameter. */
  segments: string[];
  query: string[];
  /** Field names of its request bodies (any content type), nested ones included. */
  fields: string[];
  contentTypes: string[];
}

const METHODS = ["get", "post", "put", "patch", "delete", "head"] as const;

/** Every operation of a document: method, path, parameters and the fields its bodies have. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const components = (doc.components?.schemas ?? {}) as Record<string, object>;
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths) as [string, Record<string, unknown>][]) {
    const shared = (item.parameters ?? []) as { name: string; in: string }[];
    for (const method of METHODS) {
      const op = item[method] as DocOperation | undefined;
      if (!op) continue;
      const params = [...shared, ...(op.parameters ?? [])];
      const content = op.requestBody?.content ?? {};
      const fields = new Set<string>();
      for (const media of Object.values(content)) collectFields(media.schema, components, fields, 0);
      ops.push({
        method: method.toUpperCase(),
        template,
        segments: template.split("/").slice(1),
        query: [...new Set(params.filter((p) => p.in === "query").map((p) => p.name))],
        fields: [...fields],
        contentTypes: Object.keys(content),
      });
    }
  }
  return ops;
}

/** Walks a schema: every property name, with the schemas it is given (refs and branches followed). */
function collectFields(
  schema: unknown,
  components: Record<string, object>,
  into: Set<string>,
  depth: number,
  schemas?: Map<string, object[]>,
) {
  if (depth > 6 || typeof schema !== "object" || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === "string") {
    const name = s.$ref.split("/").pop() ?? "";
    collectFields(components[name], components, into, depth + 1, schemas);
    return;
  }
  for (const key of ["oneOf", "anyOf", "allOf"]) {
    for (const branch of (s[key] as unknown[] | undefined) ?? [])
      collectFields(branch, components, into, depth + 1, schemas);
  }
  for (const [name, sub] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) {
    into.add(name);
    if (schemas && typeof sub === "object" && sub !== null)
      schemas.set(name, [...(schemas.get(name) ?? []), resolveRef(sub, components)]);
    collectFields(sub, components, into, depth + 1, schemas);
  }
  if (s.items) collectFields(s.items, components, into, depth + 1, schemas);
}

function resolveRef(schema: object, components: Record<string, object>, depth = 0): object {
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref !== "string" || depth > 6) return schema;
  return resolveRef(components[ref.split("/").pop() ?? ""] ?? {}, components, depth + 1);
}

/** Values a schema accepts, as far as it says: its const, enum, pattern, type and bounds. */
function valid(schema: object): fc.Arbitrary<unknown> | undefined {
  const s = schema as Record<string, unknown>;
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return fc.constantFrom(...(s.enum as unknown[]));
  if (typeof s.pattern === "string") {
    try {
      return fc.stringMatching(new RegExp(s.pattern));
    } catch {
      return undefined;
    }
  }
  if (s.type === "boolean") return fc.boolean();
  if (s.type === "integer" || s.type === "number")
    return fc.integer({ min: Number(s.minimum ?? -10), max: Number(s.maximum ?? 10_000) });
  if (s.type === "string")
    return fc.string({
      minLength: Number(s.minLength ?? 0),
      maxLength: Math.min(Number(s.maxLength ?? 20), 80),
      unit: "grapheme",
    });
  return undefined;
}

/**
 * For each field name of the document's request bodies, the values its schemas accept (plus the
 * caller's `hints`: real rule names, say). A known field then gets a valid-looking value about half
 * the time, so requests get past input validation to the checks behind it.
 */
export function fieldValuesOf(
  doc: OpenApiDocument,
  hints: Record<string, readonly unknown[] | fc.Arbitrary<unknown>> = {},
): Map<string, fc.Arbitrary<unknown>> {
  const components = (doc.components?.schemas ?? {}) as Record<string, object>;
  const schemas = new Map<string, object[]>();
  for (const item of Object.values(doc.paths) as Record<string, DocOperation | undefined>[]) {
    for (const method of METHODS) {
      for (const media of Object.values(item[method]?.requestBody?.content ?? {}))
        collectFields(media.schema, components, new Set(), 0, schemas);
    }
  }
  const out = new Map<string, fc.Arbitrary<unknown>>();
  for (const name of new Set([...schemas.keys(), ...Object.keys(hints)])) {
    const arbs = (schemas.get(name) ?? [])
      .map(valid)
      .filter((a): a is fc.Arbitrary<unknown> => a !== undefined);
    const hinted = hints[name];
    if (Array.isArray(hinted) && hinted.length > 0) arbs.push(fc.constantFrom(...hinted));
    else if (hinted instanceof fc.Arbitrary) arbs.push(hinted);
    if (arbs.length > 0) out.set(name, fc.oneof(...arbs));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Markers of reflected input: none may appear raw in an HTML page (escaped, they are harmless). */
export const XSS = [
  "<script>fz()</script>",
  '"><svg onload=fz()>',
  "'><img src=x onerror=fz()>",
  '" autofocus onfocus="fz()',
  "javascript:fz()",
] as const;
const RAW_XSS = [
  /<script>fz/i,
  /<svg onload=fz/i,
  /<img src=x onerror=fz/i,
  /" autofocus onfocus="fz/i,
  /(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:fz/i,
];

const SPECIALS = [
  "",
  " ",
  ".",
  "..",
  "...",
  "%00",
  "\u0000",
  "%",
  "%zz",
  "%E0%A4%A",
  "%2e%2e",
  "%2F",
  "a/b",
  "../../etc/passwd",
  "..%2F..%2Fetc",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "null",
  "undefined",
  "NaN",
  "-1",
  "0",
  "1e999",
  "\uFEFF",
  "\u202E",
  "Ａ",
  "😀",
  "\uD800",
  "a\uDFFFb",
  "\r\n",
  "$ne",
  "{}",
  "[]",
  "*",
  "?",
  "#",
  ";",
  "=",
  "\\",
];

/** Strings of every kind: ASCII, any code point, graphemes, specials, XSS, code-shaped, long. */
export const fuzzString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.constantFrom(...XSS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...XSS), fc.string({ maxLength: 4 }))
      .map(([a, x, b]) => a + x + b),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{6}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 65, max: 1500 }), fc.constantFrom("a", "9", "é", "😀", "<", "%00", "\u0000"))
      .map(([n, c]) => c.repeat(n)),
  },
);

/** `arb` once in `n` times, else undefined. (`fc.option`'s `freq` is the other way round: nil once in `freq`.) */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: arb }, { weight: n - 1, arbitrary: fc.constant(undefined) });

const ref = (pools: readonly PoolName[]): fc.Arbitrary<Ref> =>
  fc
    .record({
      $pool: fc.constantFrom(...pools),
      i: fc.nat({ max: 50 }),
      mutate: rarely(
        fc.record({ kind: fc.constantFrom("flip", "cut", "grow"), at: fc.nat({ max: 400 }) }),
        6,
      ),
      own: fc.oneof(
        { weight: 3, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    })
    .map(
      ({ mutate, own, ...r }) =>
        ({ ...r, ...(mutate ? { mutate } : {}), ...(own ? { own: true } : {}) }) as Ref,
    );

const idRef = ref(["challenge", "factor", "device", "id"]);
const str = (refWeight = 2): fc.Arbitrary<Str> =>
  fc.oneof({ weight: 5, arbitrary: fuzzString }, { weight: refWeight, arbitrary: idRef });

/** A JSON value for a known field: every type, refs, nested, Unicode. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: str(3) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fuzzString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }) },
  { weight: 1, arbitrary: fc.dictionary(fuzzString, fuzzString, { maxKeys: 3 }) },
);

/** In a form or body: the valid CSRF token of the page the request posts to, for the caller (`csrfFor`). */
export const CSRF = "$csrf";

const EXTRA_KEYS = ["__proto__", "constructor", "prototype", "factor", "code", "csrf", "$where"];

/** A field's value: valid for its schema (often), a real id for an id field, or anything at all. */
function valueFor(name: string, values: ReadonlyMap<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const known = values.get(name);
  const id = /id$/i.test(name);
  return fc.oneof(
    { weight: known ? (id ? 2 : 8) : 0, arbitrary: known ?? fc.constant(null) },
    { weight: id ? 12 : 0, arbitrary: idRef },
    { weight: known ? 1 : 3, arbitrary: fieldValue },
  );
}

const formString = (v: unknown): Str =>
  typeof v === "string" || (typeof v === "object" && v !== null && "$pool" in v)
    ? (v as Str)
    : (JSON.stringify(v) ?? "");

function bodyOf(
  op: Operation,
  page: boolean,
  values: ReadonlyMap<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<BodySpec> {
  const known = [
    ...new Set([
      ...op.fields,
      "csrf",
      "code",
      "factor",
      "factorId",
      "returnTo",
      "intent",
      "cancel",
      "rememberDevice",
    ]),
  ];
  const key = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.constantFrom(...EXTRA_KEYS) },
    { weight: 1, arbitrary: fuzzString },
  );
  const field = key.chain((k) => valueFor(k, values).map((v) => [k, v] as [string, unknown]));
  // Shaped like the operation's body: each of its fields usually there, usually valid; then a few
  // fields of any name (other operations', hostile ones).
  // (`csrf` is given its own chance below: mostly the valid token, first.)
  const own = op.fields.length > 0 ? op.fields.filter((f) => f !== "csrf") : ["factor", "code"];
  const shaped = fc
    .tuple(
      fc.tuple(...own.map((k) => fc.option(valueFor(k, values), { freq: 8, nil: undefined }))),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(field, { maxLength: 4 }) },
      ),
    )
    .map(([mine, more]) => {
      const pairs: [string, unknown][] = [];
      own.forEach((k, i) => {
        if (mine[i] !== undefined) pairs.push([k, mine[i]]);
      });
      return [...pairs, ...more];
    });
  const csrf: fc.Arbitrary<Str> = fc.oneof(
    { weight: 8, arbitrary: fc.constant(CSRF) },
    { weight: 2, arbitrary: ref(["csrf"]) },
    { weight: 1, arbitrary: fuzzString },
  );
  const formFields = fc
    .tuple(
      fc.option(csrf, { freq: page ? 8 : 2, nil: undefined }),
      shaped,
      fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(fuzzString, str(1)), { maxLength: 3 }) },
      ),
    )
    .map(([token, f, junk]) => {
      const form: [Str, Str][] = f.map(([k, v]) => [k, formString(v)]);
      if (token !== undefined) form.unshift(["csrf", token]);
      return [...form, ...junk];
    });
  const nesting = fc
    .tuple(fc.integer({ min: 1, max: 40_000 }), fc.constantFrom("[", '{"a":'), fc.boolean())
    .map(([n, open, closed]) => {
      const close = open === "[" ? "]" : "}";
      const inner = open === "[" ? "1" : "1";
      return open.repeat(n) + inner + (closed ? close.repeat(n) : "");
    });
  const kinds: fc.Arbitrary<BodySpec>[] = [
    shaped.map((f) => ({ kind: "json-fields", json: Object.fromEntries(f) })),
    fc.jsonValue({ maxDepth: 4, stringUnit: "grapheme" }).map((json) => ({ kind: "json-any", json })),
    fc.tuple(shaped, fc.nat(), fc.constantFrom("cut", "insert", "double")).map(([f, at, how]) => {
      const text = JSON.stringify(Object.fromEntries(f.filter(([, v]) => typeof v !== "object")));
      const i = at % (text.length + 1);
      const bad =
        how === "cut"
          ? text.slice(0, i)
          : how === "insert"
            ? `${text.slice(0, i)}\u0000"{${text.slice(i)}`
            : `${text}${text}`;
      return { kind: "json-malformed", text: bad };
    }),
    nesting.map((text) => ({ kind: "json-deep", text })),
    fc
      .tuple(fc.constantFrom(...known), fc.integer({ min: 60_000, max: 70_000 }))
      .map(([k, n]) => ({ kind: "json-huge", text: `{${JSON.stringify(k)}:"${"1".repeat(n)}"}` })),
    formFields.map((form) => ({ kind: "form", form })),
    fc.string({ unit: "binary", maxLength: 60 }).map((text) => ({ kind: "text", text })),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: "bytes", bytes })),
    fc.tuple(fc.constantFrom(...known), fuzzString).map(([k, v]) => ({
      kind: "multipart",
      text: `--x\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n--x--\r\n`,
    })),
  ];
  const natural: Record<string, string> = {
    "json-fields": "application/json",
    "json-any": "application/json",
    "json-malformed": "application/json",
    "json-deep": "application/json",
    "json-huge": "application/json",
    form: "application/x-www-form-urlencoded",
    text: "text/plain",
    bytes: "application/octet-stream",
    multipart: "multipart/form-data; boundary=x",
  };
  const weights = page ? [1, 1, 1, 1, 1, 30, 1, 1, 1] : [30, 2, 2, 1, 1, 1, 1, 1, 1];
  const body = fc.oneof(...kinds.map((arbitrary, i) => ({ weight: weights[i] ?? 1, arbitrary })));
  return body.chain((b) =>
    fc
      .oneof(
        { weight: 30, arbitrary: fc.constant<string | undefined>(natural[b.kind]) },
        { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) },
        { weight: 1, arbitrary: fuzzString },
      )
      .map((contentType) => ({ ...b, ...(contentType === undefined ? {} : { contentType }) })),
  );
}

const CONTENT_TYPES = [
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/merge-patch+json",
  "application/problem+json",
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=iso-8859-1",
  "text/plain",
  "text/html",
  "multipart/form-data; boundary=x",
  "application/xml",
  "*/*",
  "application/jsonx",
  "json",
];

const HEADER_VALUES: Record<string, fc.Arbitrary<string | undefined>> = {
  origin: fc.oneof(
    { weight: 40, arbitrary: fc.constant("$origin") },
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "null",
        "http://evil.example",
        "$origin/",
        "https://$host",
        "http://127.0.0.1:1",
        "$origin.evil.example",
        "file://",
      ),
    },
    { weight: 1, arbitrary: fuzzString },
  ),
  "sec-fetch-site": fc.oneof(
    { weight: 16, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom("same-origin", "same-site", "cross-site", "none") },
    { weight: 1, arbitrary: fuzzString },
  ),
  "sec-fetch-mode": fc.oneof(
    { weight: 16, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constantFrom("navigate", "cors", "no-cors", "same-origin") },
    { weight: 1, arbitrary: fuzzString },
  ),
  accept: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        "application/json",
        "text/html",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "*/*",
        "application/problem+json",
        "text/html;q=0",
        "image/*",
      ),
    },
    { weight: 1, arbitrary: fuzzString },
  ),
  referer: fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom("$origin/", "$origin/stepup/console", "http://evil.example/") },
    { weight: 1, arbitrary: fuzzString },
  ),
  authorization: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "Bearer",
        "Bearer ",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4Iiwic2NvcGUiOiJkYXRhOmV4cG9ydCJ9.AAAA",
        "Basic dXNlcjpwYXNz",
      ),
    },
    { weight: 1, arbitrary: fuzzString.map((s) => `Bearer ${s}`) },
  ),
};

const EXTRA_HEADERS = [
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "if-none-match",
  "user-agent",
  "x-middleware-subrequest",
  "next-action",
  "rsc",
  "content-encoding",
  "accept-language",
  "x-http-method-override",
  "forwarded",
];

function headersArb(raw: boolean): fc.Arbitrary<Record<string, string>> {
  const named = fc.record(HEADER_VALUES);
  const host = raw
    ? fc.oneof(
        { weight: 40, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom("evil.example", "localhost", "[::1", "a@b", "127.0.0.1:0") },
        { weight: 1, arbitrary: fuzzString },
      )
    : fc.constant(undefined);
  const extra = fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as [string, string][]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(
          fc.constantFrom(...EXTRA_HEADERS),
          fc.oneof(
            fuzzString,
            fc.constantFrom("gzip", "deflate", "br", "identity", "1.2.3.4, 5.6.7.8", "::1", "*", "DELETE"),
          ),
        ),
        { maxLength: 2 },
      ),
    },
  );
  return fc.tuple(named, host, extra).map(([h, hostValue, more]) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
    if (hostValue !== undefined) out.host = hostValue;
    for (const [k, v] of more) out[k] = v;
    return out;
  });
}

function cookiesArb(appCookie: string): fc.Arbitrary<[string, Str][]> {
  const names = [
    "stepup",
    "__Host-stepup",
    "__Secure-stepup",
    "stepup_device",
    "__Host-stepup_device",
    "stepup_signin",
    "__Host-stepup_signin",
    "stepup_codes",
    appCookie,
  ];
  const value: fc.Arbitrary<Str> = fc.oneof(
    { weight: 3, arbitrary: ref(["cookie"]) },
    { weight: 3, arbitrary: fuzzString },
    {
      weight: 1,
      arbitrary: fc.stringMatching(/^Fe26\.2\*[0-9]\*[A-Za-z0-9_-]{0,40}\*[A-Za-z0-9_-]{0,40}$/),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}$/) },
  );
  return fc.array(
    fc.tuple(
      fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fuzzString }),
      value,
    ),
    { maxLength: 4 },
  );
}

/** The pool a parameter's real values come from, by its name (`{challengeId}` -> challenges). */
function poolOf(name: string): PoolName {
  if (/challenge/i.test(name)) return "challenge";
  if (/factor/i.test(name)) return "factor";
  if (/device/i.test(name)) return "device";
  return "id";
}

/** A path parameter: usually a real id of its kind (a ref), or a generated string; sent encoded or raw. */
const paramArb = (name: string): fc.Arbitrary<{ param: Str; raw: boolean }> =>
  fc.record({
    param: fc.oneof(
      { weight: 10, arbitrary: ref([poolOf(name)]) },
      { weight: 2, arbitrary: idRef },
      { weight: 3, arbitrary: fuzzString },
      { weight: 1, arbitrary: fc.integer({ min: 200, max: 3000 }).map((n) => "x".repeat(n)) },
    ),
    raw: fc.boolean(),
  });

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** A request to one documented operation, bent in every way the generators know. */
export function requestArb(
  ops: readonly Operation[],
  options: {
    appCookie: string;
    raw: boolean;
    identities?: readonly Identity[];
    methods?: readonly string[];
    /** Valid values per field name (`fieldValuesOf`). */
    values?: ReadonlyMap<string, fc.Arbitrary<unknown>>;
  },
): fc.Arbitrary<RequestSpec> {
  const values = options.values ?? new Map();
  const identities = options.identities ?? ["victim", "attacker", "none", "garbage"];
  const methods = options.methods ?? OTHER_METHODS;
  const signedIn = identities.filter((i) => i === "victim" || i === "attacker");
  // Shrinking a request is bounded: a chained, nested value has a huge shrink tree, and every
  // step is a round of HTTP requests. Dropping requests from a sequence still shrinks fully.
  // The operations that verify (where a grant could come from) are drawn three times as often.
  const opArb = fc.oneof(
    ...ops.map((op) => ({
      weight: /challenge|verify|token|login/.test(op.template) ? 3 : 1,
      arbitrary: fc.constant(op),
    })),
  );
  const arb = opArb.chain((op) => {
    const method = fc.oneof(
      { weight: 16, arbitrary: fc.constant(methods.includes(op.method) ? op.method : (methods[0] ?? "GET")) },
      { weight: 1, arbitrary: fc.constantFrom(...methods) },
    );
    const path = fc.tuple(
      ...op.segments.map((s) =>
        s.startsWith("{") ? (paramArb(s) as fc.Arbitrary<RequestSpec["path"][number]>) : fc.constant(s),
      ),
    );
    const pairs = fc.array(
      fc.oneof(
        {
          weight: op.query.length > 0 ? 4 : 0,
          arbitrary: fc
            .constantFrom(...op.query, "x")
            .chain((k) => valueFor(k, values).map((v) => [k, formString(v)] as [Str, Str])),
        },
        { weight: 1, arbitrary: fc.tuple(str(0), str(1)) },
      ),
      { maxLength: op.query.length > 0 ? 4 : 2 },
    );
    const query = fc.oneof(
      { weight: op.query.length > 0 ? 1 : 6, arbitrary: fc.constant<[Str, Str][]>([]) },
      { weight: 2, arbitrary: pairs },
    );
    const page =
      op.contentTypes.includes("application/x-www-form-urlencoded") || op.template.includes("/console/");
    return fc
      .record({
        method,
        path,
        bend: fc.oneof(
          { weight: 20, arbitrary: fc.constant("none" as const) },
          {
            weight: 1,
            arbitrary: fc.constantFrom("extra", "drop", "slashes", "trailing") as fc.Arbitrary<
              RequestSpec["bend"]
            >,
          },
        ),
        query,
        identity:
          signedIn.length > 0
            ? fc.oneof(
                { weight: 10, arbitrary: fc.constantFrom(...signedIn) },
                { weight: 2, arbitrary: fc.constantFrom(...identities) },
              )
            : fc.constantFrom(...identities),
        jar: fc.oneof(
          { weight: 4, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
        cookies: fc.oneof(
          { weight: 3, arbitrary: fc.constant<[string, Str][]>([]) },
          { weight: 1, arbitrary: cookiesArb(options.appCookie) },
        ),
        cookieRaw: rarely(
          fc.oneof(
            fuzzString,
            fc.constantFrom(";;;", "=", "stepup", "stepup=a; stepup=b", '"stepup"="x"', "a=b;;c"),
          ),
          10,
        ),
        headers: headersArb(options.raw),
        body:
          op.method === "GET"
            ? rarely(bodyOf(op, page, values), 10)
            : fc.option(bodyOf(op, page, values), { freq: 8, nil: undefined }),
      })
      .map((r) => {
        const spec: RequestSpec = { op: `${op.method} ${op.template}`, ...r, path: r.path };
        if (spec.cookieRaw === undefined) delete spec.cookieRaw;
        if (spec.body === undefined) delete spec.body;
        return spec;
      });
  });
  return fc.limitShrink(arb, 60);
}

// ---------------------------------------------------------------------------------------------
// Proofs: a valid request around any proof but the right one

/** A proof sent to one of the caller's own open challenges, in a request that is otherwise valid. */
export interface ProofSpec {
  /** The JSON API (`api/challenges/:id/verify` or `/start`) or the challenge page's form. */
  via: "verify" | "start" | "page";
  identity: "victim" | "attacker";
  fields: [string, unknown][];
}

/**
 * Proofs for the verification endpoints, where a grant would come from: the envelope is right (the
 * caller's own challenge, its cookies, same origin, the right content type, the page's CSRF token),
 * the fields are anything (every factor type, the caller's and others' factor ids, codes of every
 * shape, `rememberDevice` of every type, extra fields): only the right code is never sent.
 */
export function proofArb(values: ReadonlyMap<string, fc.Arbitrary<unknown>>): fc.Arbitrary<ProofSpec> {
  const field = (k: string) => fc.option(valueFor(k, values), { freq: 10, nil: undefined });
  return fc
    .record({
      via: fc.constantFrom("verify", "start", "page"),
      identity: fc.constantFrom("victim", "attacker"),
      factor: field("factor"),
      factorId: fc.option(valueFor("factorId", values), { freq: 2, nil: undefined }),
      code: field("code"),
      rememberDevice: fc.option(valueFor("rememberDevice", values), { freq: 2, nil: undefined }),
      intent: fc.option(fc.constantFrom("send", "verify", ""), { freq: 8, nil: undefined }),
      extra: fc.oneof(
        { weight: 4, arbitrary: fc.constant([] as [string, unknown][]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(fc.constantFrom(...EXTRA_KEYS), fieldValue), { maxLength: 3 }),
        },
      ),
    })
    .map(({ via, identity, extra, ...f }) => ({
      via,
      identity,
      fields: [...Object.entries(f).filter(([, v]) => v !== undefined), ...extra],
    }));
}

/** The request for a proof: to a fresh challenge of the caller's own, from its own browser. */
export async function materializeProof(spec: ProofSpec, world: World): Promise<RawRequest> {
  const pools: Pools = { ...world.pools, own: world.own[spec.identity] };
  const codes = await world.secretCodes();
  const id = world.own[spec.identity].challenge?.[0] ?? "missing";
  const uid = world.userIds[spec.identity];
  const cookies = [`${world.target.appCookie}=${world.sessions[spec.identity]}`];
  for (const [k, v] of world.jars[spec.identity]) cookies.push(`${k}=${v}`);
  const headers: [string, string][] = [
    ["origin", world.target.origin],
    ["cookie", cookies.join("; ")],
  ];
  const csrf = world.csrf(`${uid}:${id}`);
  const fields = spec.fields.map(([k, v]) => [k, resolveJson(v, pools, csrf)] as [string, unknown]);
  let text: string;
  let target: string;
  if (spec.via === "page") {
    const form: [string, string][] = [["csrf", csrf]];
    for (const [k, v] of fields) form.push([k, typeof v === "string" ? v : (JSON.stringify(v) ?? "")]);
    text = form.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
    target = `/stepup/challenge/${encode(id)}`;
    headers.push(["content-type", "application/x-www-form-urlencoded"], ["accept", "text/html"]);
  } else {
    text = JSON.stringify(Object.fromEntries(fields));
    target = `/stepup/api/challenges/${encode(id)}/${spec.via}`;
    headers.push(["content-type", "application/json"], ["accept", "application/json"]);
  }
  return { method: "POST", target, headers, body: Buffer.from(scrub(text, codes), "utf8") };
}

// ---------------------------------------------------------------------------------------------
// From a spec to the wire

/** The state a request is materialized against: real values, the jar, who is who. */
export interface World {
  target: FuzzTarget;
  /** The app cookie value of each signed-in identity. */
  sessions: Record<"victim" | "attacker", string>;
  /** The user id of each signed-in identity. */
  userIds: Record<"victim" | "attacker", string>;
  /** Each account's own ids (its challenges and factors). */
  own: Record<"victim" | "attacker", Partial<Record<PoolName, string[]>>>;
  /** The CSRF token the pages give their user for a binding (`<uid>:console`, `<uid>:<challengeId>`). */
  csrf(binding: string): string;
  pools: Pools;
  /** Cookies the run's responses set, per identity (the attacker's browsers). */
  jars: Record<Identity, Map<string, string>>;
  /** Codes the attacker must never send (valid TOTP codes, codes that were sent): scrubbed out. */
  secretCodes(): Promise<Set<string>>;
}

function resolve(value: Str, pools: Pools): string {
  if (typeof value === "string") return value;
  const mine = value.own ? pools.own?.[value.$pool] : undefined;
  const pool = mine && mine.length > 0 ? mine : pools[value.$pool];
  const real = pool.length > 0 ? (pool[value.i % pool.length] ?? "") : `missing-${value.$pool}-${value.i}`;
  const m = value.mutate;
  if (!m || real.length === 0) return real;
  const at = m.at % real.length;
  if (m.kind === "cut") return real.slice(0, at);
  if (m.kind === "grow") return `${real}${real.slice(at)}`;
  const c = real[at] === "A" ? "B" : "A";
  return real.slice(0, at) + c + real.slice(at + 1);
}

function resolveJson(value: unknown, pools: Pools, csrf: string, depth = 0): unknown {
  if (value === CSRF) return csrf;
  if (depth > 40 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolveJson(v, pools, csrf, depth + 1));
  const o = value as Record<string, unknown>;
  if (typeof o.$pool === "string" && typeof o.i === "number") return resolve(o as unknown as Ref, pools);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const resolved = resolveJson(v, pools, csrf, depth + 1);
    Object.defineProperty(out, k, { value: resolved, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The pages' CSRF token for a binding, as @stepup/http computes it (an HMAC under an HKDF key). */
export function csrfToken(secret: string, binding: string): string {
  const key = Buffer.from(hkdfSync("sha256", secret, "stepup/v1", "csrf", 32));
  return createHmac("sha256", key).update(binding).digest("base64url");
}

/** Percent-encodes a string; lone surrogates become their WTF-8 bytes (which decode to an error). */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    let out = "";
    for (const ch of value) {
      const cp = ch.codePointAt(0) ?? 0;
      if (cp >= 0xd800 && cp <= 0xdfff) {
        out +=
          `%${(0xe0 | (cp >> 12)).toString(16)}%${(0x80 | ((cp >> 6) & 0x3f)).toString(16)}%${(0x80 | (cp & 0x3f)).toString(16)}`.toUpperCase();
      } else out += encodeURIComponent(ch);
    }
    return out;
  }
}

/** A header value as HTTP allows on the wire: UTF-8 bytes as Latin-1, no control characters but tab, trimmed. */
export function headerValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, "");
  return Buffer.from(clean, "utf8").toString("latin1").trim();
}

/** Bytes of request target and of Cookie header a request keeps to (with the rest, under 16 KiB). */
const MAX_TARGET = 6000;
const MAX_COOKIE = 6000;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Replaces every secret code (as a substring) by a wrong one of the same shape. */
function scrub(text: string, codes: Set<string>): string {
  let out = text;
  for (const code of codes) {
    if (!out.includes(code)) continue;
    const wrong = [...code].map((d) => String((Number(d) + 1) % 10)).join("");
    out = out.split(code).join(codes.has(wrong) ? "000000".slice(0, code.length) : wrong);
  }
  return out;
}

/** Builds the raw request for a spec in the current world. */
export async function materialize(spec: RequestSpec, world: World): Promise<RawRequest> {
  const { target } = world;
  const pools: Pools = {
    ...world.pools,
    own: world.own[spec.identity === "attacker" ? "attacker" : "victim"],
  };
  const codes = await world.secretCodes();
  const params: string[] = [];
  const segs = spec.path.map((s) => {
    if (typeof s === "string") return s;
    const v = resolve(s.param, pools);
    params.push(v);
    // Raw: only what an HTTP client can put in a request line (printable ASCII), else encoded.
    return s.raw && /^[\x21-\x7e]*$/.test(v) && !/[?#]/.test(v) ? v : encode(v);
  });
  // A very long parameter is cut to fit (at an escape's boundary): Node answers 431 itself past 16 KiB.
  const room = MAX_TARGET - segs.reduce((n, s) => n + s.length + 1, 0);
  if (room < 0) {
    const longest = segs.reduce((best, s, i) => (s.length > (segs[best]?.length ?? 0) ? i : best), 0);
    const seg = segs[longest] ?? "";
    segs[longest] = seg.slice(0, Math.max(1, seg.length + room)).replace(/%[0-9A-Fa-f]?$/, "");
  }
  if (spec.bend === "extra") segs.push("x");
  if (spec.bend === "drop") segs.pop();
  let path = `/${segs.join("/")}`;
  if (spec.bend === "slashes") path = path.replace("/", "//");
  if (spec.bend === "trailing") path += "/";
  // Within Node's 16 KiB of request line and headers (else its own 431 answers, not the app).
  let query = "";
  for (const [k, v] of spec.query) {
    const pair = `${encode(resolve(k, pools))}=${encode(resolve(v, pools))}`;
    if (path.length + query.length + pair.length > MAX_TARGET) break;
    query = query ? `${query}&${pair}` : pair;
  }
  const targetPath = scrub(query ? `${path}?${query}` : path, codes);

  const host = new URL(target.origin).host;
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(spec.headers)) {
    if (!TOKEN.test(name)) continue;
    const v = headerValue(value.replaceAll("$origin", target.origin).replaceAll("$host", host));
    headers.push([name, v]);
  }
  // Cookies: the identity's app session, the jar, the generated ones, then raw garbage.
  const cookies: string[] = [];
  if (spec.identity === "victim" || spec.identity === "attacker")
    cookies.push(`${target.appCookie}=${world.sessions[spec.identity]}`);
  if (spec.identity === "garbage") cookies.push(`${target.appCookie}=Fe26.2**garbage*x`);
  if (spec.jar) for (const [name, value] of world.jars[spec.identity]) cookies.push(`${name}=${value}`);
  for (const [name, value] of spec.cookies) cookies.push(`${name}=${resolve(value, pools)}`);
  if (spec.cookieRaw !== undefined) cookies.push(spec.cookieRaw);
  while (cookies.join("; ").length > MAX_COOKIE && cookies.length > 1) cookies.pop();
  const cookie = headerValue(scrub(cookies.join("; "), codes));
  if (cookie) headers.push(["cookie", cookie]);

  let body: Uint8Array | undefined;
  const b = spec.body;
  if (b) {
    let text: string | undefined;
    // The token the page this request posts to would carry (for whoever the caller is signed in as).
    const uid = world.userIds[spec.identity === "attacker" ? "attacker" : "victim"];
    const onChallenge = spec.path[1] === "challenge" && params[0] !== undefined;
    const csrf = world.csrf(`${uid}:${onChallenge ? params[0] : "console"}`);
    const value = (v: Str) => (v === CSRF ? csrf : resolve(v, pools));
    if (b.json !== undefined) text = JSON.stringify(resolveJson(b.json, pools, csrf));
    else if (b.form) {
      text = b.form.map(([k, v]) => `${encode(value(k))}=${encode(value(v))}`).join("&");
    } else if (b.text !== undefined) text = b.text;
    body = text === undefined ? b.bytes : Buffer.from(scrub(text, codes), "utf8");
    if (b.contentType !== undefined) headers.push(["content-type", headerValue(b.contentType)]);
  }
  return { method: spec.method, target: targetPath, headers, ...(body ? { body } : {}) };
}

/** Remembers what a response taught: cookies it set (the jar), ids it named (the pools). */
export function learn(world: World, identity: Identity, res: FuzzResponse): void {
  const jar = world.jars[identity];
  for (const line of res.headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (/max-age=0\b/i.test(line) || value === "") jar.delete(name);
    else {
      jar.set(name, value);
      if (!world.pools.cookie.includes(value)) world.pools.cookie.push(value);
    }
  }
  if (!/json/.test(res.headers.get("content-type") ?? "")) return;
  try {
    const body = JSON.parse(res.text) as Record<string, unknown>;
    const own = identity === "victim" || identity === "attacker" ? world.own[identity] : undefined;
    const add = (pool: PoolName, v: unknown) => {
      if (typeof v !== "string" || v.length >= 200) return;
      if (!world.pools[pool].includes(v)) world.pools[pool].push(v);
      if (own) own[pool] = [...(own[pool] ?? []).filter((x) => x !== v), v];
    };
    add("challenge", body.challengeId);
    add("factor", body.factorId);
    for (const f of (body.factors as { id?: unknown }[] | undefined) ?? []) add("factor", f?.id);
    for (const d of (body.devices as { id?: unknown }[] | undefined) ?? []) add("device", d?.id);
  } catch {
    // Not JSON after all: nothing to learn.
  }
}

// ---------------------------------------------------------------------------------------------
// Checks of every response

const ERROR_CODES = new Set(Object.keys(errorStatus).map((c) => c.toLowerCase()));

export interface CheckContext {
  basePath: string;
  /** Secrets no response may carry (TOTP seeds, recovery codes, server secrets). */
  secrets: readonly string[];
  /** The document's checker, for responses of documented operations. */
  checker?: OpenApiChecker;
  /** Guarded app routes (`METHOD /path`): checked against the `Guard*` components. */
  guarded?: ReadonlySet<string>;
}

/** A short, printable description of a request for failure messages. */
export function describeRequest(req: RawRequest): string {
  const body = req.body ? Buffer.from(req.body).toString("utf8").slice(0, 300) : "";
  const headers = req.headers.map(([k, v]) => `${k}: ${v.slice(0, 200)}`).join("\n  ");
  return `${req.method} ${req.target.slice(0, 400)}\n  ${headers}\n  body(${req.body?.length ?? 0}): ${body}`;
}

/** Whether a request wants a page (as stepup decides it: `wantsHtml`). */
function wantsHtml(req: RawRequest): boolean {
  const h = (name: string) => req.headers.find(([k]) => k === name)?.[1] ?? null;
  if (h("authorization")) return false;
  const mode = h("sec-fetch-mode");
  if (mode !== null && mode !== "navigate") return false;
  return (h("accept") ?? "").includes("text/html");
}

/** Every property a single response must have, whatever the request. */
export function checkResponse(req: RawRequest, res: FuzzResponse, ctx: CheckContext): void {
  const where = () =>
    `${res.status} ${res.headers.get("content-type")}\n${res.text.slice(0, 600)}\nfor ${describeRequest(req)}`;
  expect(res.status, `never a 5xx: ${where()}`).toBeLessThan(500);
  expect(res.status, where()).toBeGreaterThanOrEqual(200);
  const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  // Where the request lands: dot segments (even escaped) are resolved, as the app's URL parser does.
  const path = new URL(req.target.split("?")[0] ?? "", "http://x").pathname;
  const api = path === `${ctx.basePath}/api` || path.startsWith(`${ctx.basePath}/api/`);
  const under = path === ctx.basePath || path.startsWith(`${ctx.basePath}/`);
  const body = req.method !== "HEAD";

  if (type === "application/problem+json" && body) {
    const problem = JSON.parse(res.text) as Record<string, unknown>;
    expect(ERROR_CODES.has(String(problem.error)), `a known, stable error code: ${where()}`).toBe(true);
    expect(problem.status, where()).toBe(res.status);
    expect(typeof problem.detail, where()).toBe("string");
  }
  if (api && res.status >= 400) {
    // The API answers problem+json; a browser navigation may get the guard's page instead.
    const allowed = wantsHtml(req) ? ["application/problem+json", "text/html"] : ["application/problem+json"];
    expect(allowed, `an API error is problem+json: ${where()}`).toContain(type);
  } else if (
    under &&
    res.status >= 400 &&
    body &&
    !(path.startsWith(`${ctx.basePath}/assets/`) && res.text === "")
  ) {
    // (An unknown asset is a bare 404, as documented.)
    expect(
      ["application/problem+json", "text/html"],
      `a page error is a page or problem+json: ${where()}`,
    ).toContain(type);
  }
  // A guarded route never runs for this caller (OPTIONS is the framework's own answer, not the route).
  const guardedHere = [...(ctx.guarded ?? [])].some((g) => g.split(" ")[1] === path);
  if (guardedHere && req.method !== "OPTIONS")
    expect(res.status >= 200 && res.status < 300, `a guarded route ran: ${where()}`).toBe(false);
  if (type === "text/html") {
    for (const pattern of RAW_XSS)
      expect(res.text, `input reflected unescaped (${pattern}): ${where()}`).not.toMatch(pattern);
    // stepup's pages (its own, and the guard's challenge page) carry a CSP; the app's may not.
    const guard = [...(ctx.guarded ?? [])].some((g) => g.split(" ")[1] === path);
    if (under || guard)
      expect(res.headers.get("content-security-policy") ?? "", `a stepup page has a CSP: ${where()}`).toMatch(
        /default-src/,
      );
  }
  expectNoLeak(res.text, ctx.secrets);
  for (const [name, value] of res.headers) {
    if (name === "set-cookie") continue;
    for (const s of ctx.secrets) expect(value.includes(s), `header ${name} carries a secret`).toBe(false);
  }
}

/** The `detail` of the Express adapter's answers to the app's body parser (`errorHandler`, re-encoding). */
const ADAPTER_REFUSALS = [
  "The request body could not be read.",
  "The body is too large.",
  "The body is nested too deeply.",
];

const decodes = (segment: string) => {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

/** Checks a response against the document when the request is one of its operations as documented. */
export function checkDocumented(
  req: RawRequest,
  res: FuzzResponse,
  ctx: CheckContext,
  spec: RequestSpec,
): void {
  if (!ctx.checker) return;
  // A made-up Host is refused by the adapter before stepup sees the request (a 400: problem+json on
  // the API, a page on the pages): the document describes requests to the app's own address.
  if (req.headers.some(([k]) => k === "host")) return;
  const [method, template] = spec.op.split(" ");
  if (spec.bend !== "none" || method !== req.method) return;
  const seen = {
    status: res.status,
    headers: Object.fromEntries(
      [...res.headers].map(([k, v]) => [k, k === "set-cookie" ? res.headers.getSetCookie() : v]),
    ),
    text: req.method === "HEAD" ? "" : res.text,
    request: { method: req.method, url: req.target },
  };
  const path = req.target.split("?")[0] ?? "";
  // A parameter that decodes to a slash or dot segment lands on another path: not this operation.
  // Dot segments, even escaped (`%2e%2e`), are resolved by the URL parser: another path.
  if (new URL(path, "http://x").pathname !== path) return;
  // A segment that does not decode is no parameter of this operation (stepup: 400 "Malformed path.").
  if (path.split("/").some((seg) => !decodes(seg))) return;
  // (A HEAD with a body has no body in its answer to tell an adapter refusal by: see below.)
  if (req.method === "HEAD" && req.body) return;
  // The Express adapter's own refusals of a body the app's parser read (or failed on) before stepup
  // saw the request: problem+json on any API route (a page answers with a page), and in no
  // operation's document.
  const type = res.headers.get("content-type") ?? "";
  if (/problem\+json/.test(type)) {
    const detail = (JSON.parse(res.text || "{}") as { detail?: unknown }).detail;
    if (ADAPTER_REFUSALS.includes(String(detail))) return;
  } else if (/^text\/html/.test(type)) {
    // The same refusals on a page: its message, or the page for a form too large.
    if (res.status === 400 && ADAPTER_REFUSALS.some((d) => res.text.includes(d))) return;
    if (res.status === 413 && res.text.includes("Form too large")) return;
  }
  const guarded = ctx.guarded?.has(`${method} ${template}`);
  // A guarded route of the app answers with the guard's responses, or the app's own (not stepup's).
  if (
    guarded &&
    !/problem\+json|text\/html/.test(res.headers.get("content-type") ?? "") &&
    res.status !== 303
  )
    return;
  const parts = path.split("/").slice(1);
  if (parts.length !== (template ?? "").split("/").length - 1) return;
  if (parts.some((s) => s === "" || s === "." || s === "..")) return;
  try {
    if (guarded) ctx.checker.checkGuard(seen);
    else ctx.checker.check(seen);
  } catch (error) {
    if (process.env.STEPUP_FUZZ_COLLECT) {
      console.log(
        `DOC ${(error as Error).message.split("\n")[0]?.slice(0, 200)} || ${res.text.slice(0, 150)} || ${describeRequest(req).replace(/\n/g, " | ").slice(0, 300)}`,
      );
      return;
    }
    throw new Error(`${(error as Error).message}\nfor ${describeRequest(req)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Secret codes

/** The TOTP codes valid from two steps before to two after now, for each secret (cached per step). */
export function totpCodes(secrets: () => readonly string[]): () => Promise<Set<string>> {
  let step = -1;
  let cached = new Set<string>();
  return async () => {
    const now = Math.floor(Date.now() / STEP_MS);
    if (now !== step) {
      const codes = new Set<string>();
      for (const secret of secrets())
        for (let i = -2; i <= 3; i++) codes.add(await codeFor(secret, (now + i) * STEP_MS));
      cached = codes;
      step = now;
    }
    return cached;
  };
}
