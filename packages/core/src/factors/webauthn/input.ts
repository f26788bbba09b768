import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { StepUpError } from "../../errors.js";

// Readers of untrusted client input. They rebuild the response objects from known fields only, so
// the library never sees prototype tricks or extra properties, and a malformed body is INVALID_INPUT
// (not counted as a guess) instead of a library exception.

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Generous bounds: a credential id is at most 1023 bytes; attestation objects with certificates are a few KiB. */
const MAX_ID = 1400;
const MAX_FIELD = 64 * 1024;
const TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

function invalid(field: string, message: string): never {
  throw new StepUpError("INVALID_INPUT", message, { field });
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function base64url(value: unknown, field: string, max = MAX_FIELD): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max || !BASE64URL.test(value)) {
    invalid(field, `\`${field}\` must be a base64url string.`);
  }
  return value;
}

/** The parts of CollectedClientData (WebAuthn section 5.8.1) the server checks itself. */
export interface ClientData {
  type: unknown;
  challenge: unknown;
  origin: unknown;
  crossOrigin: unknown;
  topOrigin: unknown;
}

/** Decodes clientDataJSON; INVALID_INPUT when it is not a JSON object. */
export function readClientData(clientDataJSON: string, field: string): ClientData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8"));
  } catch {
    invalid(field, `\`${field}\` must be base64url-encoded JSON.`);
  }
  const data = objectOf(parsed) ?? invalid(field, `\`${field}\` must be base64url-encoded JSON.`);
  const { type, challenge, origin, crossOrigin, topOrigin } = data;
  return { type, challenge, origin, crossOrigin, topOrigin };
}

/**
 * Whether the ceremony ran inside a cross-origin iframe. @simplewebauthn 14 lets `crossOrigin: true`
 * through when the browser sends no `topOrigin` (Safari), so the server refuses it here: stepup is
 * never meant to be framed by another site (clickjacking a step-up prompt).
 */
export const isCrossOrigin = (c: ClientData) => c.crossOrigin === true || c.topOrigin !== undefined;

const ATTACHMENTS = ["platform", "cross-platform"] as const;
type Attachment = (typeof ATTACHMENTS)[number];

function readAttachment(value: unknown, field: string): Attachment | undefined {
  if (value === undefined || value === "platform" || value === "cross-platform") return value;
  invalid(field, `\`${field}\` must be "platform" or "cross-platform".`);
}

function credentialBase(value: unknown) {
  const body = objectOf(value) ?? invalid("response", "`response` must be a WebAuthn credential object.");
  const id = base64url(body.id, "response.id", MAX_ID);
  if (body.rawId !== id) invalid("response.rawId", "`response.rawId` must equal `response.id`.");
  if (body.type !== "public-key") invalid("response.type", '`response.type` must be "public-key".');
  const inner =
    objectOf(body.response) ?? invalid("response.response", "`response.response` must be an object.");
  // Only a hint (never trusted): a null or future value is dropped rather than refused.
  const attachment = ATTACHMENTS.find((a) => a === body.authenticatorAttachment);
  return {
    id,
    inner,
    common: {
      id,
      rawId: id,
      type: "public-key" as const,
      clientExtensionResults: {},
      ...(attachment === undefined ? {} : { authenticatorAttachment: attachment }),
    },
  };
}

/** Reads `{ response: RegistrationResponseJSON }`; INVALID_INPUT naming the field otherwise. */
export function readRegistrationResponse(input: unknown): RegistrationResponseJSON {
  const { inner, common } = credentialBase(objectOf(input)?.response);
  const clientDataJSON = base64url(inner.clientDataJSON, "response.response.clientDataJSON");
  const attestationObject = base64url(inner.attestationObject, "response.response.attestationObject");
  const transports = inner.transports;
  if (transports !== undefined && (!Array.isArray(transports) || transports.length > 16)) {
    invalid("response.response.transports", "`response.response.transports` must be a list.");
  }
  readClientData(clientDataJSON, "response.response.clientDataJSON");
  return {
    ...common,
    response: {
      clientDataJSON,
      attestationObject,
      // Transports are hints the browser passes back on later ceremonies: keep only known values.
      transports: (transports ?? []).filter((t): t is string => typeof t === "string" && TRANSPORTS.has(t)),
    },
  };
}

/** Reads `{ response: AuthenticationResponseJSON }`; INVALID_INPUT naming the field otherwise. */
export function readAuthenticationResponse(input: unknown): AuthenticationResponseJSON {
  const { inner, common } = credentialBase(objectOf(input)?.response);
  const clientDataJSON = base64url(inner.clientDataJSON, "response.response.clientDataJSON");
  const authenticatorData = base64url(inner.authenticatorData, "response.response.authenticatorData");
  const signature = base64url(inner.signature, "response.response.signature", 2048);
  // A null or empty userHandle means "not returned" (non-discoverable credentials).
  const userHandle =
    inner.userHandle === undefined || inner.userHandle === null || inner.userHandle === ""
      ? undefined
      : base64url(inner.userHandle, "response.response.userHandle", 128);
  readClientData(clientDataJSON, "response.response.clientDataJSON");
  return {
    ...common,
    response: { clientDataJSON, authenticatorData, signature, ...(userHandle ? { userHandle } : {}) },
  };
}

/** What a registration may ask for at its start. */
export interface RegistrationStartInput {
  name?: string;
  authenticatorAttachment?: Attachment;
}

/** Reads `{ name?, authenticatorAttachment? }`; unknown fields are ignored. */
export function readRegistrationStart(input: unknown): RegistrationStartInput {
  if (input === undefined || input === null) return {};
  const body = objectOf(input) ?? invalid("body", "The request body must be an object.");
  const { name } = body;
  if (name !== undefined && (typeof name !== "string" || name.trim() === "" || name.length > 64)) {
    invalid("name", "`name` must be 1-64 characters.");
  }
  const authenticatorAttachment = readAttachment(body.authenticatorAttachment, "authenticatorAttachment");
  return {
    ...(name === undefined ? {} : { name: name.trim() }),
    ...(authenticatorAttachment === undefined ? {} : { authenticatorAttachment }),
  };
}
