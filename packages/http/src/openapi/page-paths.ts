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
    description: "The rotated step-up session.",
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

/** The console's form posts (they work without JavaScript). */
function consolePaths(base: string, totp: boolean, recovery: boolean): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  const post = (path: string, fields: Parameters<typeof pageOp>[0], codes: Codes, json: Codes = []) => {
    paths[`${base}/console/${path}`] = { post: pageOp(fields, [...USER, ...FORM, ...codes], json) };
  };
  if (totp) {
    post(
      "totp",
      {
        operationId: "consoleStartTotp",
        summary: "Console: start adding an authenticator app",
        requestBody: form({ returnTo }, []),
        responses: consoleDone("with the QR code to scan"),
      },
      OWN_STEP_UP,
      GUARD_JSON,
    );
    post(
      "totp/{factorId}/confirm",
      {
        operationId: "consoleConfirmTotp",
        summary: "Console: confirm the authenticator app with its first code",
        parameters: [factorIdParam],
        requestBody: form({ code: schemaRef("TotpCode"), name: schemaRef("FactorName"), returnTo }, ["code"]),
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
      [...OWN_STEP_UP, "FACTOR_NOT_FOUND"],
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
  const codeTypes = factors.filter((f) => f.type === "totp" || f.type === "recovery").map((f) => f.type);
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
          security: [{ appSession: [], stepUpCookie: [] }],
          responses: { "200": page("The challenge page."), "303": signInRedirect },
        },
        [...USER, "CHALLENGE_NOT_FOUND", "CHALLENGE_SESSION_MISMATCH"],
      ),
      post: pageOp(
        {
          operationId: "submitChallengePage",
          summary: "Answer a challenge with the page's form (no JavaScript needed)",
          description:
            "A wrong code shows the page again with the error; WebAuthn goes through the JSON API.",
          security: [{ appSession: [], stepUpCookie: [] }],
          requestBody: form(
            {
              factor: oneOfValues(codeTypes, "A code factor (WebAuthn goes through the JSON API)."),
              factorId: schemaRef("FactorId"),
              code: { type: "string" },
            },
            ["factor", "code"],
          ),
          responses: {
            "200": page("The interrupted form POST, re-submitted by the page.", setCookie),
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
            "200": page("Enroll, rename, remove factors; recovery codes."),
            "303": signInRedirect,
          },
        },
        USER,
      ),
    },
    ...consolePaths(
      basePath,
      factors.some((f) => f.type === "totp" && f.enroll),
      recovery,
    ),
    [`${basePath}/assets/{name}`]: {
      get: { ...asset, operationId: "getAsset", summary: "A static asset (the browser bundle)" },
      head: { ...asset, operationId: "headAsset", summary: "A static asset's headers" },
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
