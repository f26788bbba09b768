import type { StepUpErrorCode } from "@stepup/core";
import type { FactorDoc } from "./factor-schemas.js";
import type { Operation, Parameter, PathItem, ResponseObject, Schema } from "./openapi-types.js";
import { errorResponses, HTML, internalError, oneOfValues, schemaRef, signInRedirect } from "./problems.js";

type Codes = readonly StepUpErrorCode[];

/** Every page: signed in (else a "sign in first" page), and the store may fail. */
const USER: Codes = ["UNAUTHENTICATED", "STORE_UNAVAILABLE"];
/** A form post: same origin, a CSRF token, urlencoded, at most 64 KiB. */
const FORM: Codes = ["ORIGIN_MISMATCH", "CSRF_FAILED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];
/** The console's sensitive forms run the guard: the challenge page inline, then the form again. */
const OWN_STEP_UP: Codes = ["STEP_UP_REQUIRED", "STEP_UP_BLOCKED", "TOO_MANY_ATTEMPTS", "USER_LOCKED"];
/** That guard answers problem+json to a client that is not a browser (its own errors included). */
const GUARD_JSON: Codes = [...OWN_STEP_UP, "STORE_UNAVAILABLE", "PAYLOAD_TOO_LARGE"];

const page = (description: string, headers?: ResponseObject["headers"]): ResponseObject => ({
  description,
  content: { [HTML]: { schema: { type: "string", contentMediaType: HTML } } },
  ...(headers ? { headers } : {}),
});
const form = (properties: Record<string, Schema>, required: string[]) => ({
  required: true,
  content: {
    "application/x-www-form-urlencoded": {
      schema: {
        type: "object" as const,
        properties: {
          csrf: { type: "string" as const, description: "The token the page's form carries." },
          ...properties,
        },
        required: ["csrf", ...required],
      },
    },
  },
});
const returnTo: Schema = {
  type: "string",
  description: "A same-origin path to go back to (anything else is ignored).",
};
const setCookie = {
  "Set-Cookie": {
    description: "The rotated step-up session, and the device cookie (`stepup_device`).",
    required: true,
    schema: { type: "string" as const },
  },
};

function pageOp(
  fields: Omit<Operation, "responses" | "tags"> & { responses: Record<string, ResponseObject> },
  codes: Codes,
  json: Codes = [],
): Operation {
  return {
    tags: ["pages"],
    security: [{ appSession: [], stepUpCookie: [] }, { appSession: [] }],
    ...fields,
    responses: { ...fields.responses, ...errorResponses(codes, { html: true, json }), "500": internalError },
  };
}

const factorIdParam: Parameter = {
  name: "factorId",
  in: "path",
  required: true,
  description: "A factor's id.",
  schema: schemaRef("FactorId"),
};
const consoleDone = (what: string) => ({ "200": page(`The console again: ${what}.`) });

/** New recovery codes: post-redirect-get, the codes sealed in a one-read cookie for the console. */
const codesShownOnce: Record<string, ResponseObject> = {
  "303": {
    description:
      "New recovery codes were issued: back to the console (post-redirect-get), which shows them once. They travel sealed in a short-lived cookie sent only to the console, read once.",
    headers: {
      Location: { description: "The console.", required: true, schema: { type: "string" } },
      "Set-Cookie": {
        description: "The sealed codes, for one read.",
        required: true,
        schema: { type: "string" },
      },
    },
  },
};

/** A send refused: too soon or too many (429), or the message could not be delivered (503). */
const SEND: Codes = ["RATE_LIMITED", "DELIVERY_FAILED"];

/** The console's form posts (they work without JavaScript). */
function consolePaths(
  base: string,
  factors: readonly FactorDoc[],
  recovery: boolean,
): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  const post = (path: string, fields: Parameters<typeof pageOp>[0], codes: Codes, json: Codes = []) => {
    paths[`${base}/console/${path}`] = { post: pageOp(fields, [...USER, ...FORM, ...codes], json) };
  };
  // Each type the console adds without JavaScript (its plugin's `ui.enroll`): start, then confirm.
  for (const f of factors) {
    if (!f.page.add || !f.enroll) continue;
    const segment = encodeURIComponent(f.type);
    const Tag = f.type.replace(/[^A-Za-z0-9]/g, "").replace(/^./, (c) => c.toUpperCase());
    const code = f.enroll.confirm.properties?.code ?? { type: "string" };
    post(
      `add/${segment}`,
      {
        operationId: `consoleStart${Tag}`,
        summary: `Console: start adding a ${f.type} factor`,
        requestBody: form({ ...f.page.add, returnTo }, []),
        responses: consoleDone("with the setup step (a QR code to scan, or where a code was sent)"),
      },
      [...OWN_STEP_UP, "INVALID_INPUT", ...(f.page.send ? SEND : [])],
      GUARD_JSON,
    );
    post(
      `add/${segment}/{factorId}/confirm`,
      {
        operationId: `consoleConfirm${Tag}`,
        summary: `Console: confirm a ${f.type} factor with its first code`,
        parameters: [factorIdParam],
        requestBody: form({ code, name: schemaRef("FactorName"), returnTo }, ["code"]),
        responses: { ...consoleDone("the factor is added"), ...codesShownOnce },
      },
      [...OWN_STEP_UP, "INVALID_CODE", "INVALID_INPUT", "ENROLLMENT_NOT_FOUND"],
      GUARD_JSON,
    );
  }
  if (recovery) {
    post(
      "recovery-codes",
      {
        operationId: "consoleRegenerateRecoveryCodes",
        summary: "Console: issue new recovery codes",
        requestBody: form({ returnTo }, []),
        responses: codesShownOnce,
      },
      [...OWN_STEP_UP, "FACTOR_NOT_FOUND", "RATE_LIMITED"],
      GUARD_JSON,
    );
  }
  const factorPost = (
    verb: string,
    operationId: string,
    summary: string,
    extra: Record<string, Schema>,
    codes: Codes,
    json: Codes = [],
  ) =>
    post(
      `factors/{factorId}/${verb}`,
      {
        operationId,
        summary,
        parameters: [factorIdParam],
        requestBody: form({ ...extra, returnTo }, Object.keys(extra)),
        responses: consoleDone(summary.replace(/^Console: /, "").toLowerCase()),
      },
      codes,
      json,
    );
  factorPost("rename", "consoleRenameFactor", "Console: rename a factor", { name: schemaRef("FactorName") }, [
    "INVALID_INPUT",
    "FACTOR_NOT_FOUND",
  ]);
  const deviceForm = (path: string, operationId: string, summary: string, codes: Codes, parameters = {}) =>
    post(
      path,
      {
        operationId,
        summary,
        description: "Needs no step-up: it only takes trust away.",
        ...parameters,
        requestBody: form({ returnTo }, []),
        responses: consoleDone(summary.replace(/^Console: /, "").toLowerCase()),
      },
      codes,
    );
  deviceForm(
    "devices/{deviceId}/revoke",
    "consoleRevokeDevice",
    "Console: revoke a trusted device",
    ["NOT_FOUND"],
    {
      parameters: [{ name: "deviceId", in: "path", required: true, schema: { type: "string" } }],
    },
  );
  deviceForm("devices/revoke-all", "consoleForgetAllDevices", "Console: forget every trusted device", []);
  factorPost("primary", "consoleMakePrimary", "Console: make a factor primary", {}, ["FACTOR_NOT_FOUND"]);
  factorPost(
    "remove",
    "consoleRemoveFactor",
    "Console: remove a factor",
    {},
    [...OWN_STEP_UP, "FACTOR_NOT_FOUND"],
    GUARD_JSON,
  );
  return paths;
}

/** The pages (challenge, console), the browser bundle and this document. */
export function pagePaths(
  basePath: string,
  factors: readonly FactorDoc[],
  recovery: boolean,
): Record<string, PathItem> {
  const challengeId: Parameter = {
    name: "challengeId",
    in: "path",
    required: true,
    description: "A challenge's id.",
    schema: schemaRef("ChallengeId"),
  };
  const codeTypes = factors.filter((f) => f.page.code).map((f) => f.type);
  const sends = factors.some((f) => f.page.send);
  const asset: Omit<Operation, "operationId" | "summary"> = {
    tags: ["static"],
    security: [],
    parameters: [
      { name: "name", in: "path", required: true, schema: { enum: ["stepup.js"] } },
      { name: "If-None-Match", in: "header", required: false, schema: { type: "string" } },
    ],
    responses: {
      "200": {
        description: "The browser bundle of @stepup/browser (`openStepUp`, `stepUpFetch`).",
        headers: {
          ETag: { description: "Strong validator.", required: true, schema: { type: "string" } },
          "Cache-Control": {
            description: "`public, max-age=3600`",
            required: true,
            schema: { type: "string" },
          },
        },
        content: { "text/javascript": { schema: { type: "string" } } },
      },
      "304": { description: "Not modified (`If-None-Match` matched)." },
      "404": { description: "No such asset (no body)." },
      "500": internalError,
    },
  };
  return {
    [`${basePath}/challenge/{challengeId}`]: {
      parameters: [challengeId],
      get: pageOp(
        {
          operationId: "showChallengePage",
          summary: "The challenge page",
          description: "Where `challengeUrl` points: pick a factor, answer, come back.",
          security: [
            { appSession: [], stepUpCookie: [] },
            { signInCookie: [], stepUpCookie: [] },
          ],
          responses: { "200": page("The challenge page."), "303": signInRedirect },
        },
        [...USER, "CHALLENGE_NOT_FOUND", "CHALLENGE_SESSION_MISMATCH"],
      ),
      post: pageOp(
        {
          operationId: "submitChallengePage",
          summary: "Answer a challenge with the page's form (no JavaScript needed)",
          description: sends
            ? "A wrong code shows the page again with the error; WebAuthn goes through the JSON API. `intent=send` sends a code first (email, SMS): the page again, with that factor's code form."
            : "A wrong code shows the page again with the error; WebAuthn goes through the JSON API.",
          security: [
            { appSession: [], stepUpCookie: [] },
            { signInCookie: [], stepUpCookie: [] },
          ],
          requestBody: form(
            {
              factor: oneOfValues(codeTypes, "A code factor (WebAuthn goes through the JSON API)."),
              factorId: schemaRef("FactorId"),
              code: {
                type: "string",
                description: sends ? "The code (not with `intent=send`)." : "The code.",
              },
              rememberDevice: {
                const: "1",
                description:
                  "The box Remember this device (shown when `policy.trustedDevices` is on): trust this browser.",
              },
              ...(sends
                ? {
                    intent: {
                      const: "send",
                      description: "Send the factor's code instead of verifying one.",
                    },
                  }
                : {}),
            },
            sends ? ["factor"] : ["factor", "code"],
          ),
          responses: {
            "200": page(
              sends
                ? "The interrupted form POST, re-submitted by the page; or (`intent=send`) the page again with the code form."
                : "The interrupted form POST, re-submitted by the page.",
              sends
                ? {
                    "Set-Cookie": {
                      ...setCookie["Set-Cookie"],
                      required: false,
                      description:
                        "The rotated step-up session and the device cookie (not after `intent=send`).",
                    },
                  }
                : setCookie,
            ),
            "303": {
              description: "Verified: back to the interrupted page.",
              headers: {
                ...setCookie,
                Location: { description: "A same-origin path.", required: true, schema: { type: "string" } },
              },
            },
          },
        },
        [
          ...USER,
          ...FORM,
          "CHALLENGE_NOT_FOUND",
          "CHALLENGE_SESSION_MISMATCH",
          "INVALID_INPUT",
          "INVALID_CODE",
          "FACTOR_NOT_FOUND",
          "FACTOR_NOT_ALLOWED",
          "TOO_MANY_ATTEMPTS",
          "CHALLENGE_EXHAUSTED",
          "USER_LOCKED",
          ...(sends ? SEND : []),
        ],
      ),
    },
    [`${basePath}/console`]: {
      get: pageOp(
        {
          operationId: "showConsole",
          summary: "The factor console",
          parameters: [{ name: "returnTo", in: "query", required: false, schema: returnTo }],
          responses: {
            "200": page("Enroll, rename, remove factors; recovery codes; trusted devices."),
            "303": signInRedirect,
          },
        },
        USER,
      ),
    },
    ...consolePaths(basePath, factors, recovery),
    [`${basePath}/assets/{name}`]: {
      get: { ...asset, operationId: "getAsset", summary: "A static asset (the browser bundle)" },
      head: { ...asset, operationId: "headAsset", summary: "A static asset's headers" },
    },
    [`${basePath}/.well-known/jwks.json`]: {
      get: {
        tags: ["static"],
        operationId: "getJwks",
        summary: "The step-up token signing keys (JWKS)",
        description:
          "For services checking step-up tokens offline. The first key signs; older ones stay listed while tokens they signed may still be live. `not_found` when tokens are off.",
        security: [],
        responses: {
          "200": {
            description: "The public keys.",
            headers: {
              "Cache-Control": {
                description: "`public, max-age=300`",
                required: true,
                schema: { type: "string" },
              },
            },
            content: { "application/jwk-set+json": { schema: schemaRef("Jwks") } },
          },
          ...errorResponses(["NOT_FOUND"]),
          "500": internalError,
        },
      },
    },
    [`${basePath}/openapi.json`]: {
      get: {
        tags: ["static"],
        operationId: "getOpenApi",
        summary: "This document",
        security: [],
        responses: {
          "200": {
            description: "OpenAPI 3.1 for this configuration (its factor types).",
            headers: {
              "Cache-Control": {
                description: "`public, max-age=300`",
                required: true,
                schema: { type: "string" },
              },
            },
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    openapi: { const: "3.1.0" },
                    info: { type: "object" },
                    paths: { type: "object" },
                    components: { type: "object" },
                  },
                  required: ["openapi", "info", "paths", "components"],
                },
              },
            },
          },
          "500": internalError,
        },
      },
    },
  };
}
