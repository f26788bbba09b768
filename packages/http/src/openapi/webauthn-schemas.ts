import type { Schema } from "./openapi-types.js";

// WebAuthn Level 3's JSON forms (section 5.1.8 and 5.4/5.5 toJSON), as @simplewebauthn produces and
// reads them. Options the server sends stay open (a library update may add members); what the
// server reads lists what it checks.

const b64url: Schema = { type: "string", pattern: "^[A-Za-z0-9_-]+$", description: "base64url" };
const transports: Schema = {
  type: "array",
  items: { enum: ["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"] },
};
const descriptor: Schema = {
  type: "object",
  properties: { id: b64url, type: { const: "public-key" }, transports },
  required: ["id", "type"],
};
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const WEBAUTHN_SCHEMAS: Record<string, Schema> = {
  WebAuthnCreationOptions: {
    type: "object",
    description: "`PublicKeyCredentialCreationOptionsJSON`, for `navigator.credentials.create`.",
    properties: {
      rp: {
        type: "object",
        properties: { name: { type: "string" }, id: { type: "string" } },
        required: ["name"],
      },
      user: {
        type: "object",
        properties: { id: b64url, name: { type: "string" }, displayName: { type: "string" } },
        required: ["id", "name", "displayName"],
      },
      challenge: b64url,
      pubKeyCredParams: {
        type: "array",
        items: {
          type: "object",
          properties: { alg: { type: "integer" }, type: { const: "public-key" } },
          required: ["alg", "type"],
        },
      },
      timeout: { type: "integer", minimum: 0, description: "Milliseconds." },
      excludeCredentials: { type: "array", items: descriptor },
      authenticatorSelection: { type: "object" },
      attestation: { enum: ["none", "indirect", "direct", "enterprise"] },
      extensions: { type: "object" },
    },
    required: ["rp", "user", "challenge", "pubKeyCredParams"],
  },
  WebAuthnRequestOptions: {
    type: "object",
    description: "`PublicKeyCredentialRequestOptionsJSON`, for `navigator.credentials.get`.",
    properties: {
      challenge: b64url,
      timeout: { type: "integer", minimum: 0, description: "Milliseconds." },
      rpId: { type: "string" },
      allowCredentials: { type: "array", items: descriptor },
      userVerification: { enum: ["required", "preferred", "discouraged"] },
      extensions: { type: "object" },
    },
    required: ["challenge"],
  },
  WebAuthnEnrollment: {
    type: "object",
    description: "Pass `options` to `navigator.credentials.create`, then confirm with its result.",
    properties: { factorId: ref("FactorId"), options: ref("WebAuthnCreationOptions") },
    required: ["factorId", "options"],
    additionalProperties: false,
  },
  WebAuthnAssertionStart: {
    type: "object",
    description:
      "Pass `options` to `navigator.credentials.get`; `factorIds` maps each offered credential id to its factor id.",
    properties: {
      options: ref("WebAuthnRequestOptions"),
      factorIds: { type: "object", additionalProperties: ref("FactorId") },
    },
    required: ["options", "factorIds"],
    additionalProperties: false,
  },
  WebAuthnRegistrationResponse: {
    type: "object",
    description: "`RegistrationResponseJSON`: what `navigator.credentials.create` returned, as JSON.",
    properties: {
      id: b64url,
      rawId: { ...b64url, description: "Equal to `id`." },
      type: { const: "public-key" },
      response: {
        type: "object",
        properties: { clientDataJSON: b64url, attestationObject: b64url, transports },
        required: ["clientDataJSON", "attestationObject"],
      },
      authenticatorAttachment: { enum: ["platform", "cross-platform"] },
      clientExtensionResults: { type: "object" },
    },
    required: ["id", "rawId", "type", "response"],
  },
  WebAuthnAuthenticationResponse: {
    type: "object",
    description: "`AuthenticationResponseJSON`: what `navigator.credentials.get` returned, as JSON.",
    properties: {
      id: b64url,
      rawId: { ...b64url, description: "Equal to `id`." },
      type: { const: "public-key" },
      response: {
        type: "object",
        properties: {
          clientDataJSON: b64url,
          authenticatorData: b64url,
          signature: b64url,
          userHandle: { type: ["string", "null"] },
        },
        required: ["clientDataJSON", "authenticatorData", "signature"],
      },
      authenticatorAttachment: { enum: ["platform", "cross-platform"] },
      clientExtensionResults: { type: "object" },
    },
    required: ["id", "rawId", "type", "response"],
  },
};
