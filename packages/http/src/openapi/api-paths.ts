import type { StepUpErrorCode } from "@stepup/core";
import type { FactorDoc } from "./factor-schemas.js";
import type {
  Operation,
  Parameter,
  PathItem,
  ResponseObject,
  Schema,
  SecurityRequirement,
} from "./openapi-types.js";
import { errorResponses, internalError, schemaRef } from "./problems.js";

type Codes = readonly StepUpErrorCode[];

/** Every API call: the app says who is signed in, and any store call can fail (closed). */
const USER: Codes = ["UNAUTHENTICATED", "STORE_UNAVAILABLE"];
/** A state-changing call with a JSON body. */
const JSON_WRITE: Codes = ["ORIGIN_MISMATCH", "INVALID_INPUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];
/** stepup's own sensitive actions run the guard first (rule `stepup:<action>`). */
const OWN_STEP_UP: Codes = ["STEP_UP_REQUIRED", "STEP_UP_BLOCKED", "TOO_MANY_ATTEMPTS", "USER_LOCKED"];
/** That guard renders pages for a browser navigation (the store failing inside it included). */
const GUARD_PAGES: Codes = [...OWN_STEP_UP, "STORE_UNAVAILABLE"];
/** Answering a challenge: it must exist and belong to this step-up session. */
const CHALLENGE: Codes = [
  "CHALLENGE_NOT_FOUND",
  "CHALLENGE_SESSION_MISMATCH",
  "FACTOR_NOT_ALLOWED",
  "FACTOR_NOT_FOUND",
];

const USER_ONLY: SecurityRequirement[] = [{ appSession: [] }];
/** The step-up cookie is read when present; without it the call may answer 401 step_up_required. */
const MAYBE_STEPPED_UP: SecurityRequirement[] = [{ appSession: [], stepUpCookie: [] }, { appSession: [] }];
const STEPPED_UP: SecurityRequirement[] = [{ appSession: [], stepUpCookie: [] }];
/** Answering a challenge: also a pending sign-in's, with no app session yet (`session:sign-in` only). */
const ANSWERING: SecurityRequirement[] = [...STEPPED_UP, { signInCookie: [], stepUpCookie: [] }];

const json = (schema: Schema) => ({ "application/json": { schema } });
const body = (schema: Schema, required = true) => ({ required, content: json(schema) });
const ok = (description: string, schema: Schema, headers?: ResponseObject["headers"]): ResponseObject => ({
  description,
  content: json(schema),
  ...(headers ? { headers } : {}),
});
const pathParam = (name: string, schema: Schema, description: string): Parameter => ({
  name,
  in: "path",
  required: true,
  description,
  schema,
});
const factorIdParam = pathParam("factorId", schemaRef("FactorId"), "A factor's id.");
const challengeIdParam = pathParam("challengeId", schemaRef("ChallengeId"), "A challenge's id.");
const deviceIdParam = pathParam("deviceId", { type: "string" }, "A trusted device's id (`DeviceId`).");

const setCookie = (description: string, required: boolean) => ({
  "Set-Cookie": {
    description,
    required,
    schema: { type: "string" as const, description: "`stepup` (or `__Host-stepup` when Secure)." },
  },
});

/** A code send refused: too soon or too many (429, Retry-After when known), or undeliverable (503). */
const SEND: Codes = ["RATE_LIMITED", "DELIVERY_FAILED"];

function op(
  fields: Omit<Operation, "responses" | "tags"> & { responses: Record<string, ResponseObject> },
  codes: Codes,
  html: Codes = [],
): Operation {
  return {
    tags: ["api"],
    ...fields,
    responses: { ...fields.responses, ...errorResponses(codes, { html }), "500": internalError },
  };
}

/** `POST api/factors/{type}` and its confirm, for each factor type that is enrolled. */
function enrollPaths(api: string, f: FactorDoc, recovery: boolean): Record<string, PathItem> {
  if (!f.enroll) return {};
  const tag = f.type.replace(/[^A-Za-z0-9]/g, "");
  const Tag = tag.charAt(0).toUpperCase() + tag.slice(1);
  const segment = encodeURIComponent(f.type);
  return {
    [`${api}/factors/${segment}`]: {
      post: op(
        {
          operationId: `start${Tag}Enrollment`,
          summary: `Start enrolling a ${f.type} factor`,
          description:
            "The pending enrollment lives 10 minutes, server-side. Once the user has a factor, adding another needs a fresh step-up (`stepup:factor.add`).",
          security: MAYBE_STEPPED_UP,
          requestBody: body(f.enroll.start, false),
          responses: { "201": ok("Enrollment started.", f.enroll.started) },
        },
        // A code sent to the new address or number can be refused (too soon, too many) or bounce.
        [...USER, ...JSON_WRITE, ...OWN_STEP_UP, ...(f.page.send ? SEND : [])],
        GUARD_PAGES,
      ),
    },
    [`${api}/factors/${segment}/{factorId}/confirm`]: {
      post: op(
        {
          operationId: `confirm${Tag}Enrollment`,
          summary: `Confirm a ${f.type} enrollment with its first proof`,
          description: recovery
            ? "The user's first factor also returns the recovery codes, shown once."
            : "Confirms the pending enrollment.",
          security: MAYBE_STEPPED_UP,
          parameters: [pathParam("factorId", schemaRef("FactorId"), "The `factorId` the start returned.")],
          requestBody: body(f.enroll.confirm),
          responses: { "200": ok("The new factor.", schemaRef("EnrollmentConfirmed")) },
        },
        [...USER, ...JSON_WRITE, ...OWN_STEP_UP, "ENROLLMENT_NOT_FOUND", "INVALID_CODE"],
        GUARD_PAGES,
      ),
    },
  };
}

/** The JSON API under `{basePath}/api`. */
export function apiPaths(
  basePath: string,
  factors: readonly FactorDoc[],
  recovery: boolean,
): Record<string, PathItem> {
  const api = `${basePath}/api`;
  const paths: Record<string, PathItem> = {
    [`${api}/factors`]: {
      get: op(
        {
          operationId: "listFactors",
          summary: "List the user's factors",
          security: USER_ONLY,
          responses: { "200": ok("The factors, primary first.", schemaRef("FactorList")) },
        },
        USER,
      ),
    },
  };
  for (const f of factors) Object.assign(paths, enrollPaths(api, f, recovery));
  paths[`${api}/factors/{factorId}`] = {
    parameters: [factorIdParam],
    patch: op(
      {
        operationId: "updateFactor",
        summary: "Rename a factor or make it primary",
        security: USER_ONLY,
        requestBody: body(schemaRef("FactorUpdate")),
        responses: { "200": ok("The updated factor.", schemaRef("UpdatedFactor")) },
      },
      [...USER, ...JSON_WRITE, "FACTOR_NOT_FOUND"],
    ),
    delete: op(
      {
        operationId: "removeFactor",
        summary: "Remove a factor",
        description:
          "Needs a fresh step-up (`stepup:factor.remove`), asked before anything says whether the id exists. Removing the last factor removes the recovery codes too.",
        security: MAYBE_STEPPED_UP,
        responses: { "204": { description: "Removed." } },
      },
      [...USER, "ORIGIN_MISMATCH", ...OWN_STEP_UP, "FACTOR_NOT_FOUND"],
      GUARD_PAGES,
    ),
  };
  paths[`${api}/challenges`] = {
    post: op(
      {
        operationId: "openChallenge",
        summary: "Open a challenge for a rule",
        description: "The rule is the server's (a guard's or a configured one): the client only names it.",
        security: MAYBE_STEPPED_UP,
        requestBody: body(schemaRef("ChallengeRequest")),
        responses: {
          "201": ok(
            "The challenge and the factors that can answer it.",
            schemaRef("OpenedChallenge"),
            setCookie("A new step-up session when the caller had none.", false),
          ),
        },
      },
      [...USER, ...JSON_WRITE],
    ),
  };
  paths[`${api}/challenges/{challengeId}/start`] = {
    parameters: [challengeIdParam],
    post: op(
      {
        operationId: "startChallenge",
        summary: "Pick a factor (WebAuthn: get the request options)",
        security: ANSWERING,
        requestBody: body(schemaRef("StartRequest")),
        responses: { "200": ok("What the factor needs before verify.", schemaRef("ChallengeStarted")) },
      },
      [...USER, ...JSON_WRITE, ...CHALLENGE, ...(factors.some((f) => f.page.send) ? SEND : [])],
    ),
  };
  paths[`${api}/challenges/{challengeId}/verify`] = {
    parameters: [challengeIdParam],
    post: op(
      {
        operationId: "verifyChallenge",
        summary: "Answer a challenge",
        description:
          "Every attempt is counted before it is checked; a challenge takes 5 guesses, then it is gone (`challenge_exhausted`). Success consumes it and rotates the step-up session.",
        security: ANSWERING,
        requestBody: body(schemaRef("VerifyRequest")),
        responses: {
          "200": ok("Verified.", schemaRef("Verified"), {
            "Set-Cookie": {
              description:
                "Two cookies: the rotated step-up session (the old cookie no longer counts), and the device cookie `stepup_device` (`__Host-stepup_device` when Secure; HttpOnly, SameSite=Lax, a new random token each time; trusted with `rememberDevice`).",
              required: true,
              schema: { type: "string" },
            },
          }),
        },
      },
      [
        ...USER,
        ...JSON_WRITE,
        ...CHALLENGE,
        "INVALID_CODE",
        "TOO_MANY_ATTEMPTS",
        "CHALLENGE_EXHAUSTED",
        "USER_LOCKED",
      ],
    ),
  };
  paths[`${api}/status`] = {
    get: op(
      {
        operationId: "getStatus",
        summary: "Whether the caller's step-up is fresh for a rule",
        security: MAYBE_STEPPED_UP,
        parameters: [
          { name: "resource", in: "query", required: true, schema: schemaRef("RuleName") },
          { name: "action", in: "query", required: true, schema: schemaRef("RuleName") },
        ],
        responses: { "200": ok("Fresh or not.", schemaRef("Freshness")) },
      },
      [...USER, "INVALID_INPUT"],
    ),
  };
  paths[`${api}/token`] = {
    post: op(
      {
        operationId: "issueToken",
        summary: "Get a step-up token for a rule",
        description:
          "A short-lived ES256 JWT (`typ: stepup+jwt`) proving this step-up session is fresh for the rule, for other services (checked offline against `/.well-known/jwks.json`) and as `Authorization: Bearer` on the app's guarded routes. Not fresh: the guard's answer for the rule (401 `step_up_required` with a challenge opened; step up, then ask again). Minted from the step-up cookie only, never from a bearer token. `not_found` when tokens are off; `invalid_input` for a transaction rule (its step-up is bound to its own request).",
        security: MAYBE_STEPPED_UP,
        requestBody: body(schemaRef("ChallengeRequest")),
        responses: { "200": ok("The token.", schemaRef("StepUpToken")) },
      },
      [...USER, ...JSON_WRITE, ...OWN_STEP_UP, "ENROLLMENT_REQUIRED", "NOT_FOUND"],
      GUARD_PAGES,
    ),
  };
  paths[`${api}/devices`] = {
    get: op(
      {
        operationId: "listDevices",
        summary: "List the user's trusted devices",
        description: "`current: true` marks the browser making the request.",
        security: USER_ONLY,
        responses: { "200": ok("The trusted devices.", schemaRef("DeviceList")) },
      },
      USER,
    ),
  };
  paths[`${api}/devices/{deviceId}`] = {
    parameters: [deviceIdParam],
    delete: op(
      {
        operationId: "revokeDevice",
        summary: "Stop trusting a device",
        description:
          "At once, on every process. Needs no step-up: it only takes trust away (the user of a lost laptop needs it now).",
        security: USER_ONLY,
        responses: { "204": { description: "Revoked." } },
      },
      [...USER, "ORIGIN_MISMATCH", "NOT_FOUND"],
    ),
  };
  paths[`${api}/audit`] = {
    get: op(
      {
        operationId: "listAudit",
        summary: "The user's recent security activity",
        description:
          "The signed-in user's own audit log, newest first: sign-ins and step-ups, wrong codes, factors added or removed, devices remembered. The log keeps the newest 200 entries; its hash chain stays server-side.",
        security: USER_ONLY,
        parameters: [
          {
            name: "limit",
            in: "query",
            required: false,
            description: "How many entries (default and most: 50). Anything else is 400 `invalid_input`.",
            schema: { type: "integer", minimum: 1, maximum: 50 },
          },
        ],
        responses: { "200": ok("The newest entries.", schemaRef("AuditEventList")) },
      },
      [...USER, "INVALID_INPUT"],
    ),
  };
  if (recovery) {
    paths[`${api}/recovery-codes`] = {
      post: op(
        {
          operationId: "regenerateRecoveryCodes",
          summary: "Issue new recovery codes",
          description:
            "Needs a factor other than recovery codes, and a fresh step-up (`stepup:recovery.regenerate`). The old codes stop working. One issue at a time per user: a second one while the first runs is 429 `rate_limited` (`Retry-After: 1`), so only the codes a response shows work.",
          security: MAYBE_STEPPED_UP,
          requestBody: body({ type: "object", description: "Nothing is read: send `{}` or no body." }, false),
          responses: { "201": ok("The new codes.", schemaRef("RecoveryCodes")) },
        },
        [...USER, ...JSON_WRITE, ...OWN_STEP_UP, "FACTOR_NOT_FOUND", "RATE_LIMITED"],
        GUARD_PAGES,
      ),
    };
  }
  return paths;
}
