import { errorStatus, type StepUpErrorCode } from "@stepup/core";
import { wireCode } from "../problem.js";
import type { Header, MediaType, Reference, ResponseObject, Schema } from "./openapi-types.js";

/**
 * When each error code is answered, in words: the description of its problem schema and the "when"
 * column of the README's error table. A `Record` over every code: a new code without a line here
 * does not compile.
 */
export const ERROR_WHEN: Readonly<Record<StepUpErrorCode, string>> = Object.freeze({
  INVALID_INPUT:
    "Wrong types, malformed or too deeply nested JSON, a bad `code` format (not counted as a guess); `field` names the input when known.",
  INVALID_CODE: "Wrong code; the body has `success: false` and `attemptsRemaining`.",
  UNAUTHENTICATED: "The app's `getUser` returned no user.",
  FORBIDDEN:
    "Signed in, but not allowed: the admin API's `authorizeAdmin` said no (nothing about the target is read).",
  STEP_UP_REQUIRED:
    "Not fresh enough: a challenge is already open; the body has `challengeId`, `challengeUrl`, `resource`, `action`, `maxAge`, `factors`, `expiresAt` (and `label`, `description`, `enrollUrl`, `trustedDeviceDays` when they apply).",
  STEP_UP_BLOCKED: "The policy hook said BLOCK; the body has `resource` and `action`.",
  CHALLENGE_NOT_FOUND: "Unknown, expired or already used challenge id.",
  CHALLENGE_SESSION_MISMATCH:
    "The challenge belongs to another step-up session (or the request has no step-up cookie).",
  FACTOR_NOT_FOUND: "No enrolled factor with that type or id.",
  FACTOR_NOT_ALLOWED: "The rule does not accept that factor.",
  ENROLLMENT_NOT_FOUND: "Unknown, expired or already confirmed enrollment id.",
  TOO_MANY_ATTEMPTS:
    "A time limit: per address, per factor window, or a growing delay; with `Retry-After` and `retryAfter` (seconds).",
  CHALLENGE_EXHAUSTED:
    "This challenge had its guesses and is gone; open a new one (no `Retry-After`: nothing to wait for).",
  USER_LOCKED: "The consecutive-failure cap was reached: only a recovery code or `unlockUser` ends it.",
  ORIGIN_MISMATCH: "A cross-site request: `Origin`, `Referer` or `Sec-Fetch-Site` name another site.",
  CSRF_FAILED: "A page's form came without its CSRF token, or with a stale one.",
  NOT_FOUND: "No such endpoint or page, or a factor type that is not enabled.",
  METHOD_NOT_ALLOWED: "The path exists, the method does not.",
  PAYLOAD_TOO_LARGE:
    "A body over 64 KiB (counted while streaming), or a form over 16 KiB to keep for a step-up.",
  UNSUPPORTED_MEDIA_TYPE: "Not JSON (API) or not urlencoded (pages).",
  RATE_LIMITED:
    "Too many codes sent: at least 30 s between sends, at most 3 per challenge, and limits per user, destination, address (and country prefix for SMS); or new recovery codes asked for while others are being issued. `Retry-After` when waiting helps.",
  DELIVERY_FAILED:
    "The email or SMS sender failed or timed out: no code was left valid; try again or use another method.",
  ENROLLMENT_REQUIRED:
    'The user has no factor this rule accepts and its policy says `noFactor: "deny"`: enrol first (`enrollUrl`).',
  STORE_UNAVAILABLE: "The store failed or timed out: fail closed, nothing was run or granted.",
});

/** Every error code, in the order of `errorStatus` (core's one table). */
export const ERROR_CODES = Object.keys(errorStatus) as StepUpErrorCode[];

const pascal = (code: string) =>
  code
    .toLowerCase()
    .split("_")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

/** The component name of a code's problem schema: `INVALID_CODE` -> `InvalidCodeProblem`. */
export const problemName = (code: StepUpErrorCode) => `${pascal(code)}Problem`;

export const schemaRef = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** One of `values`; JSON Schema wants an enum to list at least one, so none is "no string fits". */
export const oneOfValues = (values: readonly string[], description: string): Schema =>
  values.length > 0 ? { enum: values, description } : { type: "string", maxLength: 0, description };

const seconds: Schema = { type: "integer", minimum: 0, description: "Seconds." };

/** Members a code adds to the RFC 9457 base (public data only, never a cause or a stack). */
const EXTRA: Partial<Record<StepUpErrorCode, { properties: Record<string, Schema>; required: string[] }>> = {
  INVALID_INPUT: {
    properties: { field: { type: "string", description: "The input that was wrong (`code`, `name`, ...)." } },
    required: [],
  },
  INVALID_CODE: {
    properties: {
      success: { const: false },
      attemptsRemaining: { type: "integer", minimum: 0, description: "Guesses left on this challenge." },
    },
    required: ["success", "attemptsRemaining"],
  },
  STEP_UP_REQUIRED: {
    properties: {
      challengeId: schemaRef("ChallengeId"),
      challengeUrl: {
        type: "string",
        format: "uri-reference",
        description: "The challenge page (same origin): a browser can go there and come back.",
      },
      resource: { type: "string" },
      action: { type: "string" },
      maxAge: { ...seconds, description: "Seconds a verification stays fresh for this rule." },
      factors: {
        type: "array",
        items: schemaRef("OfferedFactor"),
        description: "Enrolled factors the challenge accepts now, primary first.",
      },
      expiresAt: { type: "string", format: "date-time", description: "When the challenge expires." },
      description: {
        type: "string",
        maxLength: 200,
        description: "What is being approved, in words (transaction rules with `describe`).",
      },
      label: {
        type: "string",
        maxLength: 100,
        description: 'The rule\'s readable label ("open the admin panel"), when it has one.',
      },
      enrollUrl: {
        type: "string",
        format: "uri-reference",
        description: "Present when the user has no factor for this rule yet: where to enroll one.",
      },
      trustedDeviceDays: schemaRef("TrustedDeviceDays"),
    },
    required: ["challengeId", "challengeUrl", "resource", "action", "maxAge", "factors", "expiresAt"],
  },
  STEP_UP_BLOCKED: {
    properties: { resource: { type: "string" }, action: { type: "string" } },
    required: ["resource", "action"],
  },
  ENROLLMENT_REQUIRED: {
    properties: {
      resource: { type: "string" },
      action: { type: "string" },
      enrollUrl: {
        type: "string",
        format: "uri-reference",
        description: "The console (same origin), where a factor is set up.",
      },
    },
    required: ["resource", "action", "enrollUrl"],
  },
  TOO_MANY_ATTEMPTS: {
    properties: { retryAfter: { ...seconds, description: "Seconds until another attempt can succeed." } },
    required: ["retryAfter"],
  },
  USER_LOCKED: {
    properties: {
      retryAfter: {
        ...seconds,
        description: "Present when the recovery path itself is throttled: seconds until it can be used.",
      },
    },
    required: [],
  },
};

/** The RFC 9457 problem schema of one code. */
function problemSchema(code: StepUpErrorCode): Schema {
  const extra = EXTRA[code] ?? { properties: {}, required: [] };
  return {
    title: wireCode(code),
    description: ERROR_WHEN[code],
    type: "object",
    properties: {
      type: { const: "about:blank" },
      title: { type: "string" },
      status: { const: errorStatus[code] },
      error: { const: wireCode(code) },
      detail: { type: "string", description: "For people; match `error`, never this text." },
      ...extra.properties,
    },
    required: ["type", "title", "status", "error", "detail", ...extra.required],
    additionalProperties: false,
  };
}

/** A problem schema per code, plus the 500 (which says nothing about its cause). */
export function problemSchemas(): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  for (const code of ERROR_CODES) schemas[problemName(code)] = problemSchema(code);
  schemas.InternalErrorProblem = {
    title: "internal_error",
    description: "An unexpected failure: logged server-side, nothing about it is sent.",
    type: "object",
    properties: {
      type: { const: "about:blank" },
      title: { type: "string" },
      status: { const: 500 },
      error: { const: "internal_error" },
    },
    required: ["type", "title", "status", "error"],
    additionalProperties: false,
  };
  return schemas;
}

export const PROBLEM_JSON = "application/problem+json";
export const HTML = "text/html";
const html: MediaType = { schema: { type: "string", contentMediaType: "text/html" } };

const retryAfter = (required: boolean): Header => ({
  description: "Seconds to wait before trying again.",
  required,
  schema: { type: "string", pattern: "^[0-9]+$" },
});

/** Which codes answer with which content: `true` for every code, or a list. */
export interface ErrorContent {
  /** problem+json. @default true */
  json?: boolean | readonly StepUpErrorCode[];
  /** A page (a browser navigation or form). @default false */
  html?: boolean | readonly StepUpErrorCode[];
}

const answers = (which: boolean | readonly StepUpErrorCode[], code: StepUpErrorCode) =>
  which === true || (which !== false && which.includes(code));

const codeList = (codes: readonly StepUpErrorCode[]) => codes.map((c) => `\`${wireCode(c)}\``).join(", ");

/** The problem schema for a set of codes of one status: one `$ref`, or `oneOf` them (by `error`). */
export function problemOf(codes: readonly StepUpErrorCode[]): Schema {
  const refs = codes.map((c) => schemaRef(problemName(c)));
  return refs.length === 1 && refs[0] ? refs[0] : { oneOf: refs };
}

/**
 * Error responses for the codes an operation can answer, grouped by status (core's `errorStatus`):
 * problem+json whose `error` is one of exactly these codes, and a page where one is rendered.
 */
export function errorResponses(
  codes: readonly StepUpErrorCode[],
  content: ErrorContent = {},
): Record<string, ResponseObject | Reference> {
  const byStatus = new Map<number, StepUpErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, ResponseObject | Reference> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const asJson = group.filter((c) => answers(content.json ?? true, c));
    const withJson = asJson.length > 0;
    const withHtml = group.some((c) => answers(content.html ?? false, c));
    const media: Record<string, MediaType> = {};
    if (withJson) media[PROBLEM_JSON] = { schema: problemOf(asJson) };
    if (withHtml) media[HTML] = html;
    const response: ResponseObject = {
      description: !withJson
        ? `A page: ${codeList(group)}`
        : `${codeList(group)}${withHtml ? " (a browser navigation or form gets a page)" : ""}`,
      content: media,
      "x-errors": group.map(wireCode),
    };
    if (status === 429)
      response.headers = { "Retry-After": retryAfter(group.every((c) => c === "TOO_MANY_ATTEMPTS")) };
    responses[String(status)] = response;
  }
  return responses;
}

/** The shared 500 response of every operation. */
export const internalError: Reference = { $ref: "#/components/responses/InternalError" };

export const internalErrorResponse: ResponseObject = {
  description:
    "`internal_error`: an unexpected failure (logged server-side; the body says nothing about it).",
  content: { [PROBLEM_JSON]: { schema: schemaRef("InternalErrorProblem") } },
};

/** With `signInUrl` configured: a signed-out browser is sent to the app's login and back. */
export const signInRedirect: ResponseObject = {
  description:
    "Only when `signInUrl` is configured, and only for a browser (HTML navigation): not signed in, so sent to the app's login, to come back after it.",
  headers: {
    Location: {
      description: "The app's `signInUrl` with `returnTo=<the same-origin path requested>`.",
      required: true,
      schema: { type: "string" },
    },
  },
};
