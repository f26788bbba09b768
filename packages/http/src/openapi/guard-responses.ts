import type { StepUpErrorCode } from "@stepup/core";
import type { Header, Reference, ResponseObject } from "./openapi-types.js";
import { errorResponses, signInRedirect } from "./problems.js";

/** What the guard can answer instead of running the handler, by status, with the component's name. */
const GUARD: Readonly<Record<string, { name: string; description: string; codes: StepUpErrorCode[] }>> = {
  "400": {
    name: "GuardBadRequest",
    description: "The app's `transaction` (or `describe`) refused the request's details.",
    codes: ["INVALID_INPUT"],
  },
  "401": {
    name: "GuardUnauthorized",
    description:
      "Step up, then retry: the server already opened the challenge (`step_up_required`; a browser navigation or form gets the challenge page inline, and the form is re-submitted after it). `unauthenticated` (always problem+json) means the app's own sign-in is missing.",
    codes: ["STEP_UP_REQUIRED", "UNAUTHENTICATED"],
  },
  "403": {
    name: "GuardForbidden",
    description:
      '`step_up_blocked`: the policy hook refused the action. `enrollment_required`: the user has no factor this rule accepts and its policy says `noFactor: "deny"` (`enrollUrl` is where to set one up; a browser gets a page linking there). `origin_mismatch`: a state-changing request from another site, refused before anything ran.',
    codes: ["STEP_UP_BLOCKED", "ENROLLMENT_REQUIRED", "ORIGIN_MISMATCH"],
  },
  "413": {
    name: "GuardPayloadTooLarge",
    description: "A form over 16 KiB cannot be kept for re-submission after the step-up.",
    codes: ["PAYLOAD_TOO_LARGE"],
  },
  "429": {
    name: "GuardTooManyRequests",
    description:
      "Nothing can be tried now: every factor for this rule is throttled (`too_many_attempts`, with `Retry-After`), or the user is locked (`user_locked`).",
    codes: ["TOO_MANY_ATTEMPTS", "USER_LOCKED"],
  },
  "503": {
    name: "GuardUnavailable",
    description: "The store failed: fail closed, the handler did not run.",
    codes: ["STORE_UNAVAILABLE"],
  },
};

const PAGE_CODES: StepUpErrorCode[] = [
  "STEP_UP_REQUIRED",
  "STEP_UP_BLOCKED",
  "ENROLLMENT_REQUIRED",
  "ORIGIN_MISMATCH",
  "PAYLOAD_TOO_LARGE",
  "TOO_MANY_ATTEMPTS",
  "USER_LOCKED",
  "STORE_UNAVAILABLE",
];

/** The guard's responses as components (`#/components/responses/Guard...`). */
export function guardComponents(): Record<string, ResponseObject> {
  const components: Record<string, ResponseObject> = {};
  for (const [status, guard] of Object.entries(GUARD)) {
    const response = errorResponses(guard.codes, { html: PAGE_CODES })[status] as ResponseObject;
    components[guard.name] = { ...response, description: guard.description };
  }
  components.GuardSignInRedirect = signInRedirect;
  const unauthorized = components.GuardUnauthorized;
  if (unauthorized) {
    unauthorized.headers = {
      "Set-Cookie": {
        description: "A new step-up session, when the caller had none (the challenge belongs to it).",
        schema: { type: "string" },
      },
      "WWW-Authenticate": {
        description:
          'For a request with an `Authorization: Bearer` that is not a step-up token for this user and rule (RFC 9470): `Bearer error="insufficient_user_authentication", ..., max_age=<seconds>, acr_values="mfa"` (or `"phishing-resistant"`, the rule\'s level).',
        schema: { type: "string" },
      },
    };
  }
  return components;
}

/** The headers a guarded route's own responses may carry, as components (`#/components/headers/...`). */
export function guardHeaderComponents(): Record<string, Header> {
  return {
    StepupEnrollBy: {
      description:
        "`Stepup-Enroll-By`: within a `REQUIRED` policy's grace period, for a user with no factor, the date (ISO 8601) to set up two-step verification by. After it the route answers 401 `step_up_required` (enrol, then verify).",
      required: false,
      schema: { type: "string", format: "date-time" },
    },
  };
}

/**
 * The headers a guarded route's own responses may carry when the guard let it run, as `$ref`s
 * into this document: spread them into the `headers` of your operations' success responses.
 *
 * @example
 * myDoc.paths["/reports"].get.responses["200"].headers = { ...guardHeaders() };
 */
export function guardHeaders(): Record<string, Reference> {
  return { "Stepup-Enroll-By": { $ref: "#/components/headers/StepupEnrollBy" } };
}

/**
 * What any route guarded by `requireStepUp` / `withStepUp` may answer besides its own responses, as
 * `$ref`s into this document: spread them into the operations of your own OpenAPI document.
 *
 * @example
 * const doc = openApiDocument({ factors: [totp()] });
 * myDoc.paths["/account/delete"].post.responses = { "200": ..., ...guardResponses() };
 */
export function guardResponses(): Record<string, Reference> {
  const refs: Record<string, Reference> = {};
  for (const [status, guard] of Object.entries(GUARD))
    refs[status] = { $ref: `#/components/responses/${guard.name}` };
  refs["303"] = { $ref: "#/components/responses/GuardSignInRedirect" };
  refs["500"] = { $ref: "#/components/responses/InternalError" };
  return refs;
}
