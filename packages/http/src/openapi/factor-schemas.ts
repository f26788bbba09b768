import type { FactorPlugin } from "@stepup/core";
import type { Schema } from "./openapi-types.js";
import { schemaRef } from "./problems.js";
import { WEBAUTHN_SCHEMAS } from "./webauthn-schemas.js";

/** What the document says about one factor type: its bodies, as components and references. */
export interface FactorDoc {
  type: string;
  /** Absent for a recovery factor: its codes come with the first factor, never enrolled. */
  enroll?: { start: Schema; started: Schema; confirm: Schema };
  /** Its branch of the verify body (`factor` names the type). */
  verify: Schema;
  /** What `start` answers for it. */
  started: Schema;
  /** How the pages take it (from the plugin's `ui`). */
  page: FactorPage;
}

/** What the pages do with a factor type, from its plugin's declaration. */
export interface FactorPage {
  /** A code the challenge page's form posts (`ui.prompt.kind` "code"). */
  code: boolean;
  /** A code sent first: the challenge page's form posts `intent=send` for it. */
  send: boolean;
  /**
   * The console's add form (`ui.enroll` without a ceremony): the fields it posts (`ui.enroll.fields`).
   * Absent when the console cannot add it without JavaScript.
   */
  add?: Record<string, Schema>;
}

const factorId: Schema = schemaRef("FactorId");
const name: Schema = schemaRef("FactorName");
const noStartData: Schema = schemaRef("NoStartData");

/** Schemas shared by the factor types (components). */
export const FACTOR_COMMON: Record<string, Schema> = {
  FactorName: {
    type: "string",
    minLength: 1,
    maxLength: 64,
    description: "A display name, 1-64 characters (trimmed).",
  },
  NoStartData: {
    type: "object",
    maxProperties: 0,
    description: "Nothing to do before verifying: the code is already in the user's hands.",
  },
  TotpCode: {
    type: "string",
    pattern: "^[\\s-]*([0-9][\\s-]*){6}$",
    description: "The 6-digit code of the authenticator app; spaces and dashes are ignored.",
  },
  RecoveryCode: {
    type: "string",
    maxLength: 64,
    description:
      "A recovery code: 16 letters and digits (Crockford base32); case, spaces and dashes are ignored, I and L read as 1, O as 0.",
  },
  TotpEnrollment: {
    type: "object",
    description: "Show the QR code (or the secret) once, then confirm with the first code.",
    properties: {
      factorId,
      secret: { type: "string", pattern: "^[A-Z2-7]+$", description: "The base32 secret, shown once." },
      otpauthUri: { type: "string", format: "uri", description: "`otpauth://totp/...` for the QR code." },
      qrCode: {
        type: "string",
        pattern: "^data:image/png;base64,",
        description: "The QR code as a data URL.",
      },
    },
    required: ["factorId", "secret", "otpauthUri", "qrCode"],
    additionalProperties: false,
  },
  SentCode: {
    type: "string",
    pattern: "^[\\s-]*([0-9][\\s-]*){6}$",
    description: "The 6-digit code that was sent; spaces and dashes are ignored.",
  },
  SentCodeEnrollment: {
    type: "object",
    description: "A code was sent to the new address or number: confirm with it.",
    properties: {
      factorId,
      destination: { type: "string", description: "Where the code went, masked (`a***@example.com`)." },
      expiresAt: { type: "string", format: "date-time", description: "When the code stops working." },
    },
    required: ["factorId", "destination", "expiresAt"],
  },
  CodeSent: {
    type: "object",
    description:
      "A code was sent: verify with it. Sending again is refused (`rate_limited`) until `resendAfter`.",
    properties: {
      sent: { const: true },
      destination: {
        type: "string",
        description: "Where the code went, masked (`a***@example.com`, `+1*******67`).",
      },
      expiresAt: { type: "string", format: "date-time", description: "When the code stops working." },
      resendAfter: { type: "string", format: "date-time", description: "When another send is allowed." },
    },
    required: ["sent", "destination", "expiresAt", "resendAfter"],
  },
  ...WEBAUTHN_SCHEMAS,
};

/** A factor whose code is sent (email, SMS): enrolled with an address or a number, verified with the sent code. */
const sentCodeFactor = (type: string, start: Schema, what: string): Omit<FactorDoc, "page"> => ({
  type,
  enroll: {
    start,
    started: schemaRef("SentCodeEnrollment"),
    confirm: { type: "object", properties: { code: schemaRef("SentCode"), name }, required: ["code"] },
  },
  verify: codeVerify(
    type,
    schemaRef("SentCode"),
    `Start first (it sends the code ${what}); \`factorId\` when the user has several.`,
  ),
  started: schemaRef("CodeSent"),
});

const codeVerify = (type: string, code: Schema, description: string): Schema => ({
  type: "object",
  description,
  properties: { factor: { const: type }, factorId, code },
  required: ["factor", "code"],
});

/** Factor types stepup ships, by type. */
const KNOWN: Record<string, Omit<FactorDoc, "page">> = {
  totp: {
    type: "totp",
    enroll: {
      start: { type: "object", description: "Nothing is read: send `{}` or no body." },
      started: schemaRef("TotpEnrollment"),
      confirm: {
        type: "object",
        properties: { code: schemaRef("TotpCode"), name },
        required: ["code"],
      },
    },
    verify: codeVerify(
      "totp",
      schemaRef("TotpCode"),
      "`factorId` when the user has several authenticator apps.",
    ),
    started: noStartData,
  },
  recovery: {
    type: "recovery",
    verify: codeVerify(
      "recovery",
      schemaRef("RecoveryCode"),
      "`factorId` is the offered recovery factor's id (optional: a user has one).",
    ),
    started: noStartData,
  },
  webauthn: {
    type: "webauthn",
    enroll: {
      start: {
        type: "object",
        properties: {
          name,
          authenticatorAttachment: {
            enum: ["platform", "cross-platform"],
            description: "`platform` for a passkey on this device, `cross-platform` for a security key.",
          },
        },
      },
      started: schemaRef("WebAuthnEnrollment"),
      confirm: {
        type: "object",
        properties: { response: schemaRef("WebAuthnRegistrationResponse"), name },
        required: ["response"],
      },
    },
    verify: {
      type: "object",
      description:
        "The result of `navigator.credentials.get` with the options `start` gave; `factorId = factorIds[response.id]`.",
      properties: {
        factor: { const: "webauthn" },
        factorId,
        response: schemaRef("WebAuthnAuthenticationResponse"),
      },
      required: ["factor", "factorId", "response"],
    },
    started: schemaRef("WebAuthnAssertionStart"),
  },
  email: sentCodeFactor(
    "email",
    {
      type: "object",
      properties: {
        email: {
          type: "string",
          format: "email",
          maxLength: 254,
          description: "Where codes go. @default the signed-in user's email address",
        },
      },
    },
    "by email",
  ),
  sms: sentCodeFactor(
    "sms",
    {
      type: "object",
      properties: {
        phone: {
          type: "string",
          pattern: "^\\+[1-9][0-9]{6,14}$",
          description: "The mobile number codes go to, in E.164 form (`+15551234567`).",
        },
      },
      required: ["phone"],
    },
    "by text message",
  ),
};

/** What the document can say about a factor plugin it does not know: the shapes, not the fields. */
function unknownFactor(type: string, recovery: boolean): Omit<FactorDoc, "page"> {
  const open: Schema = { type: "object", description: `Defined by the \`${type}\` factor plugin.` };
  return {
    type,
    ...(recovery
      ? {}
      : {
          enroll: {
            start: open,
            started: { ...open, properties: { factorId }, required: ["factorId"] },
            confirm: open,
          },
        }),
    verify: { ...open, properties: { factor: { const: type }, factorId }, required: ["factor"] },
    started: open,
  };
}

/** What the pages do with a plugin, read from its declaration (`ui`). */
function pageOf(f: Pick<FactorPlugin, "recovery" | "ui">): FactorPage {
  const { prompt, enroll } = f.ui;
  const add =
    enroll && !enroll.ceremony && !f.recovery
      ? Object.fromEntries(
          (enroll.fields ?? []).map((field): [string, Schema] => [
            field.name,
            { type: "string", description: `${field.label}${field.required ? "" : " (optional)"}.` },
          ]),
        )
      : undefined;
  return {
    code: prompt.kind === "code",
    send: prompt.kind === "code" && prompt.send === true,
    ...(add ? { add } : {}),
  };
}

/** The document's view of each configured factor, in configuration order. */
export function factorDocs(factors: Iterable<Pick<FactorPlugin, "type" | "recovery" | "ui">>): FactorDoc[] {
  return [...factors].map((f) => {
    const known = Object.hasOwn(KNOWN, f.type) ? KNOWN[f.type] : undefined;
    // A plugin named like one of ours but playing another role is documented as unknown.
    const doc =
      known && Boolean(known.enroll) !== (f.recovery === true)
        ? known
        : unknownFactor(f.type, f.recovery === true);
    return { ...doc, page: pageOf(f) };
  });
}
