import type { FactorDoc } from "./factor-schemas.js";
import type { Schema } from "./openapi-types.js";
import { oneOfValues, schemaRef } from "./problems.js";

const isoTime = (description: string): Schema => ({ type: "string", format: "date-time", description });
const NAME = "^[A-Za-z0-9_.-]{1,64}$";

/**
 * The API's own bodies. `factors` decides the enums: only configured types are listed, and the
 * verify and start bodies have one branch per type.
 */
export function apiSchemas(factors: readonly FactorDoc[], recovery: boolean): Record<string, Schema> {
  const types = factors.map((f) => f.type);
  const managed = factors.filter((f) => f.enroll).map((f) => f.type);
  return {
    ChallengeId: { type: "string", pattern: "^[A-Za-z0-9_-]{16,64}$" },
    FactorId: { type: "string", pattern: "^[A-Za-z0-9_-]{8,64}$" },
    FactorType: oneOfValues(types, "A configured factor type."),
    RuleName: { type: "string", pattern: NAME, description: "A resource or action name." },
    OfferedFactor: {
      type: "object",
      description: "A factor as a challenge offers it: no dates, no secrets.",
      properties: {
        id: schemaRef("FactorId"),
        type: schemaRef("FactorType"),
        name: { type: "string" },
        primary: { type: "boolean" },
        title: { type: "string", description: "The type in words (the plugin's `ui.title`)." },
        prompt: schemaRef("FactorPrompt"),
        destination: { type: "string", description: "Where a code goes, masked (`a***@example.com`)." },
        recovery: {
          const: true,
          description: "A recovery path: clients fold it away unless nothing else is usable.",
        },
      },
      required: ["id", "type", "name", "primary", "title", "prompt"],
      additionalProperties: false,
    },
    FactorPrompt: {
      description:
        "How the factor is proved (the plugin's `ui.prompt`): a code the user types, or a WebAuthn ceremony. Every text is plain; `{appName}` and `{destination}` in `hint` are filled in by the client.",
      oneOf: [
        {
          type: "object",
          properties: {
            kind: { const: "code" },
            label: { type: "string", description: "The field's label." },
            hint: { type: "string", description: "One line under the field." },
            digits: { type: "integer", minimum: 1, description: "A numeric code of this many digits." },
            maxLength: {
              type: "integer",
              minimum: 1,
              description: "Longest input, for a code of letters and digits.",
            },
            placeholder: { type: "string" },
            send: { type: "boolean", description: "The code is sent first: `start` sends it (`CodeSent`)." },
            submit: { type: "string", description: "The submit button's text." },
          },
          required: ["kind", "label"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: { kind: { const: "webauthn" } },
          required: ["kind"],
          additionalProperties: false,
        },
      ],
    },
    FactorSummary: {
      type: "object",
      description: "A factor as the user manages it (recovery codes are a count, not a factor here).",
      properties: {
        id: schemaRef("FactorId"),
        type: oneOfValues(managed, "A factor type the user enrolls."),
        name: { type: "string" },
        createdAt: isoTime("When it was enrolled."),
        lastUsedAt: { type: ["string", "null"], format: "date-time", description: "Its last verification." },
        primary: { type: "boolean", description: "Offered first on a challenge." },
      },
      required: ["id", "type", "name", "createdAt", "lastUsedAt", "primary"],
      additionalProperties: false,
    },
    FactorList: {
      type: "object",
      properties: {
        factors: { type: "array", items: schemaRef("FactorSummary") },
        recoveryCodesRemaining: recovery
          ? { type: "integer", minimum: 0, description: "Unused recovery codes." }
          : { type: "null", description: "Recovery codes are not enabled." },
      },
      required: ["factors", "recoveryCodesRemaining"],
      additionalProperties: false,
    },
    EnrollmentConfirmed: {
      type: "object",
      properties: {
        factor: schemaRef("FactorSummary"),
        ...(recovery
          ? {
              recoveryCodes: {
                type: "array",
                items: { type: "string" },
                description: "With the first factor only: the recovery codes, shown once.",
              },
            }
          : {}),
      },
      required: ["factor"],
      additionalProperties: false,
    },
    FactorUpdate: {
      type: "object",
      description: "Rename a factor, or make it the primary one (the others stop being primary).",
      properties: { name: schemaRef("FactorName"), primary: { const: true } },
    },
    UpdatedFactor: {
      type: "object",
      properties: { factor: schemaRef("FactorSummary") },
      required: ["factor"],
      additionalProperties: false,
    },
    ChallengeRequest: {
      type: "object",
      description:
        "The rule to step up for; its maxAge, level and factors are the server's, never the client's.",
      properties: { resource: schemaRef("RuleName"), action: schemaRef("RuleName") },
      required: ["resource", "action"],
    },
    TrustedDeviceDays: {
      type: "integer",
      minimum: 1,
      maximum: 400,
      description:
        'Days "Remember this device" (`rememberDevice: true` on verify) trusts this browser for; absent when trusted devices are off.',
    },
    OpenedChallenge: {
      type: "object",
      properties: {
        challengeId: schemaRef("ChallengeId"),
        expiresAt: isoTime("When the challenge expires."),
        factors: {
          type: "array",
          items: schemaRef("OfferedFactor"),
          description: "Enrolled factors the challenge accepts now, primary first.",
        },
        label: {
          type: "string",
          maxLength: 100,
          description: 'The rule\'s readable label ("open the admin panel"), when it has one.',
        },
        trustedDeviceDays: schemaRef("TrustedDeviceDays"),
      },
      required: ["challengeId", "expiresAt", "factors"],
      additionalProperties: false,
    },
    StartRequest: {
      type: "object",
      description: "The factor the user picked.",
      properties: { factor: schemaRef("FactorType"), factorId: schemaRef("FactorId") },
      required: ["factor"],
    },
    ChallengeStarted: {
      description: "What the picked factor needs before `verify` (by factor type).",
      anyOf: uniqueSchemas(factors.map((f) => f.started)),
    },
    VerifyRequest: {
      description:
        "A proof for the picked factor: `factor` says which branch applies. Any branch may add `rememberDevice`.",
      oneOf: factors.map(withRemember),
    },
    RememberDevice: {
      type: "boolean",
      description:
        "`true`: trust this browser for the policy's days (`policy.trustedDevices`, default 30): rules with `allowTrustedDevice` then pass on it without a step-up. Never transaction rules, phishing-resistant rules or stepup's own actions.",
    },
    Verified: {
      type: "object",
      description: "The step-up session was rotated: the new cookie comes in Set-Cookie.",
      properties: {
        success: { const: true },
        sid: { type: "string", description: "The new step-up session id (the cookie carries it sealed)." },
        timestamp: isoTime("When the factor was verified."),
        resource: { type: "string" },
        action: { type: "string" },
        trustedDevice: {
          type: "boolean",
          description: "Whether this browser is now a trusted device (`rememberDevice`, now or before).",
        },
      },
      required: ["success", "sid", "timestamp", "resource", "action", "trustedDevice"],
      additionalProperties: false,
    },
    DeviceId: { type: "string", pattern: "^[A-Za-z0-9_-]{16}$", description: "A trusted device's id." },
    DeviceSummary: {
      type: "object",
      description: "A trusted device (a browser where the user ticked Remember this device).",
      properties: {
        id: schemaRef("DeviceId"),
        name: { type: "string", description: 'Browser and system, from its User-Agent ("Chrome on macOS").' },
        createdAt: isoTime("When it was first seen verifying."),
        lastUsedAt: isoTime("Its last verification or trusted pass (updated at most hourly)."),
        trustedUntil: isoTime("When the trust ends."),
        current: { const: true, description: "Present on the browser making this request." },
      },
      required: ["id", "name", "createdAt", "lastUsedAt", "trustedUntil"],
      additionalProperties: false,
    },
    DeviceList: {
      type: "object",
      properties: {
        devices: {
          type: "array",
          items: schemaRef("DeviceSummary"),
          description: "Most recently used first.",
        },
      },
      required: ["devices"],
      additionalProperties: false,
    },
    StepUpToken: {
      type: "object",
      description: "A step-up token and when it expires.",
      properties: {
        token: {
          type: "string",
          description:
            "A compact JWS (ES256, `typ: stepup+jwt`): `iss`, `aud`, `sub` (the user), `scope` (`resource:action`), `auth_time`, `acr`, `amr`, `sid`, `jti`, `iat`, `exp`.",
        },
        expiresAt: isoTime("`exp`: never later than the step-up's own expiry for the rule."),
      },
      required: ["token", "expiresAt"],
      additionalProperties: false,
    },
    Jwks: {
      type: "object",
      description: "RFC 7517 JWK Set: the public keys step-up tokens are signed with (never a private part).",
      properties: {
        keys: {
          type: "array",
          items: {
            type: "object",
            properties: {
              kty: { const: "EC" },
              crv: { const: "P-256" },
              x: { type: "string" },
              y: { type: "string" },
              kid: { type: "string", description: "RFC 7638 thumbprint of the key." },
              alg: { const: "ES256" },
              use: { const: "sig" },
            },
            required: ["kty", "crv", "x", "y", "kid", "alg", "use"],
            additionalProperties: false,
          },
        },
      },
      required: ["keys"],
      additionalProperties: false,
    },
    Freshness: {
      description: "Whether the caller's step-up is fresh for a rule, and until when.",
      oneOf: [
        {
          type: "object",
          properties: {
            fresh: { const: true },
            verifiedAt: isoTime("When the counting verification was made."),
            expiresAt: isoTime("When it stops counting for this rule."),
          },
          required: ["fresh", "verifiedAt", "expiresAt"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: { fresh: { const: false }, verifiedAt: { type: "null" }, expiresAt: { type: "null" } },
          required: ["fresh", "verifiedAt", "expiresAt"],
          additionalProperties: false,
        },
      ],
    },
    RecoveryCodes: {
      type: "object",
      description: "New recovery codes, shown once; the old ones no longer work.",
      properties: { recoveryCodes: { type: "array", items: { type: "string" } } },
      required: ["recoveryCodes"],
      additionalProperties: false,
    },
  };
}

/** A factor's verify branch, with the `rememberDevice` every branch accepts. */
function withRemember(f: FactorDoc): Schema {
  return { ...f.verify, properties: { ...f.verify.properties, rememberDevice: schemaRef("RememberDevice") } };
}

function uniqueSchemas(list: readonly Schema[]): Schema[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const key = JSON.stringify(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
