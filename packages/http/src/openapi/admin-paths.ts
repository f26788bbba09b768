import type { StepUpErrorCode } from "@stepup/core";
import { AUDIT_SCHEMAS } from "./audit-schemas.js";
import type { Operation, PathItem, ResponseObject, Schema, SecurityRequirement } from "./openapi-types.js";
import { errorResponses, internalError, schemaRef } from "./problems.js";

type Codes = readonly StepUpErrorCode[];

/**
 * In the order the server checks them: off without `authorizeAdmin` (404), signed in (401), an
 * administrator (403 `forbidden`), a well-formed id (400), then the administrator's own fresh
 * step-up (the guard's answers for `stepup:admin`).
 */
const ADMIN: Codes = [
  "NOT_FOUND",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "INVALID_INPUT",
  "STEP_UP_REQUIRED",
  "STEP_UP_BLOCKED",
  "TOO_MANY_ATTEMPTS",
  "USER_LOCKED",
  "STORE_UNAVAILABLE",
];
/** A POST: same-origin, and a JSON body or none. */
const WRITE: Codes = [...ADMIN, "ORIGIN_MISMATCH", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];
/** A browser navigation meets the guard's challenge page (and its other pages). */
const GUARD_PAGES: Codes = [
  "STEP_UP_REQUIRED",
  "STEP_UP_BLOCKED",
  "TOO_MANY_ATTEMPTS",
  "USER_LOCKED",
  "STORE_UNAVAILABLE",
];
const SECURITY: SecurityRequirement[] = [{ appSession: [], stepUpCookie: [] }, { appSession: [] }];

const ok = (description: string, schema: Schema): ResponseObject => ({
  description,
  content: { "application/json": { schema } },
});

function op(
  fields: Omit<Operation, "responses" | "tags" | "security"> & { responses: Record<string, ResponseObject> },
  codes: Codes,
): Operation {
  return {
    tags: ["admin"],
    security: SECURITY,
    ...fields,
    responses: { ...fields.responses, ...errorResponses(codes, { html: GUARD_PAGES }), "500": internalError },
  };
}

const ACTIONS = {
  reset: {
    summary: "Reset a user's two-step verification",
    description:
      "Every factor (with what its plugin keeps, such as the passkey index), recovery code and trusted device goes; pending enrollments and open challenges go; every step-up of the user ends; locks and failure counts are cleared. Recorded as `user.reset` (`metadata.by`: the administrator) and told to the user (`notify`, to the address `findUser` gives). An enrollment being confirmed meanwhile cannot survive it.",
  },
  revoke: {
    summary: "End a user's step-ups and trusted devices",
    description: "On every process at once; their factors stay. Recorded as `user.revoked` (`metadata.by`).",
  },
  unlock: {
    summary: "Unlock a user",
    description:
      "Ends the lock after too many failed verifications, the growing delay, the failure count and each factor's window lock. Recorded as `user.unlocked` (`metadata.by`).",
  },
} as const;

/** The admin API under `{basePath}/admin/users/{userId}`. */
export function adminPaths(basePath: string): Record<string, PathItem> {
  const users = `${basePath}/admin/users/{userId}`;
  const parameters = [
    {
      name: "userId",
      in: "path" as const,
      required: true,
      description: "The user's id, as the app's `getUser` gives it: 1-256 characters, no control characters.",
      schema: { type: "string" as const, minLength: 1, maxLength: 256 },
    },
  ];
  const paths: Record<string, PathItem> = {
    [users]: {
      parameters,
      get: op(
        {
          operationId: "adminGetUser",
          summary: "A user's two-step verification, for an administrator",
          description:
            "Needs `authorizeAdmin` to say yes for the signed-in user, and that user's own fresh step-up (`stepup:admin`, 5 minutes; never waived by a policy or a trusted device). An unknown id reads as a user with nothing set up.",
          responses: { "200": ok("The user's status.", schemaRef("AdminUserStatus")) },
        },
        ADMIN,
      ),
    },
    [`${users}/audit`]: {
      parameters,
      get: op(
        {
          operationId: "adminGetUserAudit",
          summary: "A user's audit log and the check of its chain",
          parameters: [
            {
              name: "limit",
              in: "query",
              required: false,
              description:
                "How many entries (default 50, at most 200). Anything else is 400 `invalid_input`.",
              schema: { type: "integer", minimum: 1, maximum: 200 },
            },
          ],
          responses: {
            "200": ok("The newest entries, and whether the kept log is intact.", schemaRef("AdminAuditLog")),
          },
        },
        ADMIN,
      ),
    },
  };
  for (const [action, words] of Object.entries(ACTIONS)) {
    paths[`${users}/${action}`] = {
      parameters,
      post: op(
        {
          operationId: `admin${action.charAt(0).toUpperCase()}${action.slice(1)}User`,
          ...words,
          requestBody: {
            required: false,
            content: {
              "application/json": {
                schema: { type: "object", description: "Nothing is read: send `{}` or no body." },
              },
            },
          },
          responses: { "200": ok("Done: the user's status now.", schemaRef("AdminUserStatus")) },
        },
        WRITE,
      ),
    };
  }
  return paths;
}

const isoTime = (description: string): Schema => ({ type: "string", format: "date-time", description });
const auditEvent = AUDIT_SCHEMAS.AuditEvent as Schema;

/** The admin API's bodies. */
export const ADMIN_SCHEMAS: Record<string, Schema> = {
  AdminFactor: {
    type: "object",
    description: "A factor as an administrator sees it: a summary, never a secret, a full address or number.",
    properties: {
      id: schemaRef("FactorId"),
      type: { type: "string", description: "The factor type (`totp`, `webauthn`, `email`, ...)." },
      title: { type: "string", description: 'The type in words ("Authenticator app").' },
      name: { type: "string" },
      createdAt: isoTime("When it was enrolled."),
      lastUsedAt: { type: ["string", "null"], format: "date-time", description: "Its last verification." },
      primary: { type: "boolean" },
      destination: { type: "string", description: "Where codes go, masked (`a***@example.com`)." },
    },
    required: ["id", "type", "title", "name", "createdAt", "lastUsedAt", "primary"],
    additionalProperties: false,
  },
  AdminReview: {
    type: "object",
    description: "A policy REVIEW decision (the `decide` hook), kept 90 days for an administrator.",
    properties: {
      at: isoTime("When."),
      resource: { type: "string" },
      action: { type: "string" },
      ip: { type: "string", description: "The client address, when known." },
    },
    required: ["at", "resource", "action"],
    additionalProperties: false,
  },
  AdminUserStatus: {
    type: "object",
    properties: {
      enabled: { type: "boolean", description: "Whether the user has a factor other than recovery codes." },
      factorCount: { type: "integer", minimum: 0, description: "How many such factors." },
      factors: { type: "array", items: schemaRef("AdminFactor"), description: "Primary first." },
      recoveryCodesRemaining: {
        type: ["integer", "null"],
        minimum: 0,
        description: "Unused recovery codes; null when recovery codes are not enabled.",
      },
      devices: {
        type: "array",
        items: schemaRef("DeviceSummary"),
        description: "Trusted devices, most recently used first.",
      },
      lockedUntil: {
        type: ["string", "null"],
        format: "date-time",
        description:
          "Until when the user cannot verify with any of their factors; null when they can. The hard lock (`userLocked`) has no end of its own: `9999-12-31T23:59:59.999Z`.",
      },
      userLocked: {
        type: "boolean",
        description: "Locked after the consecutive-failure cap: an unlock or a recovery code ends it.",
      },
      reviews: {
        type: "array",
        items: schemaRef("AdminReview"),
        maxItems: 100,
        description: "Newest first.",
      },
    },
    required: [
      "enabled",
      "factorCount",
      "factors",
      "recoveryCodesRemaining",
      "devices",
      "lockedUntil",
      "userLocked",
      "reviews",
    ],
    additionalProperties: false,
  },
  AdminAuditEvent: {
    ...auditEvent,
    description: "One entry of the user's audit log (`factorId` included for an administrator).",
    properties: { ...auditEvent.properties, factorId: schemaRef("FactorId") },
  },
  AuditChain: {
    type: "object",
    description:
      "`verifyAuditChain`: every kept entry's MAC, `prev` and `seq` checked from the oldest; the first break, if any.",
    properties: {
      ok: { type: "boolean", description: "Whether the kept log is intact." },
      entries: { type: "integer", minimum: 0, description: "How many entries were checked." },
      brokenAt: {
        type: "integer",
        minimum: 0,
        description: "Not ok: the position of the first bad entry, oldest first.",
      },
      id: { type: "string", description: "Not ok: that entry's id (empty when unreadable)." },
      reason: {
        enum: ["edited", "missing", "unreadable"],
        description: "Not ok: an entry changed, one before it is gone, or one cannot be read.",
      },
    },
    required: ["ok", "entries"],
    additionalProperties: false,
  },
  AdminAuditLog: {
    type: "object",
    properties: {
      events: {
        type: "array",
        items: schemaRef("AdminAuditEvent"),
        maxItems: 200,
        description: "Newest first.",
      },
      chain: schemaRef("AuditChain"),
    },
    required: ["events", "chain"],
    additionalProperties: false,
  },
};
