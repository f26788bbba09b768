import type { Schema } from "./openapi-types.js";
import { schemaRef } from "./problems.js";

/**
 * `GET api/audit`'s body: the user's own log as they may see it. The chain that makes tampering
 * visible (`seq`, `prev`, `mac`) and the ids behind it stay out: they are for `verifyAuditChain`.
 */
export const AUDIT_SCHEMAS: Record<string, Schema> = {
  AuditEvent: {
    type: "object",
    description: "One entry of the user's audit log: what happened, when, and from where when known.",
    properties: {
      id: { type: "string", description: "The entry's id." },
      type: {
        type: "string",
        description:
          "The engine's event type (`verification.succeeded`, `factor.enrolled`, `device.trusted`, ...); newer versions may add types.",
      },
      at: { type: "string", format: "date-time", description: "When it happened." },
      severity: {
        type: "string",
        enum: ["low", "medium", "high", "critical"],
        description: "How much it matters to a security team.",
      },
      ip: { type: "string", description: "The client address the app reported." },
      resource: schemaRef("RuleName"),
      action: schemaRef("RuleName"),
      factor: {
        type: "string",
        description: "The factor type involved (`totp`, `webauthn`, `recovery`...).",
      },
      tag: { type: "string", description: "A `track` event: the app's name for its action." },
      status: { type: "string", description: "A `track` event: how the action ended." },
      metadata: {
        type: "object",
        description:
          "Other safe details: `reason` (an error code), `decision` (a policy's), `deviceId`, `challengeId`, `by` (an administrator), or a `track` call's own. Never a code, secret or token.",
        additionalProperties: { type: ["string", "number", "boolean"] },
      },
    },
    required: ["id", "type", "at", "severity"],
    additionalProperties: false,
  },
  AuditEventList: {
    type: "object",
    properties: {
      events: {
        type: "array",
        items: schemaRef("AuditEvent"),
        maxItems: 50,
        description: "Newest first.",
      },
    },
    required: ["events"],
    additionalProperties: false,
  },
};
