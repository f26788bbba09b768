import type { FactorPlugin } from "@stepup/core";
import { ADMIN_SCHEMAS, adminPaths } from "./admin-paths.js";
import { apiPaths } from "./api-paths.js";
import { AUDIT_SCHEMAS } from "./audit-schemas.js";
import { FACTOR_COMMON, factorDocs } from "./factor-schemas.js";
import { guardComponents, guardHeaderComponents } from "./guard-responses.js";
import type { OpenApiDocument } from "./openapi-types.js";
import { pagePaths } from "./page-paths.js";
import { ERROR_CODES, internalErrorResponse, problemSchemas } from "./problems.js";
import { apiSchemas } from "./schemas.js";

/** The version of @stepup/http this document describes (a test keeps it equal to package.json). */
export const API_VERSION = "0.1.0";

/** Options of `openApiDocument`: what the document depends on in the step-up config. */
export interface OpenApiOptions {
  /** Where the API and pages are mounted. @default "/stepup" */
  basePath?: string;
  /** The configured factor plugins, in order (`type`, `recovery` and `ui` are read). */
  factors: Iterable<Pick<FactorPlugin, "type" | "recovery" | "ui">>;
  /** The step-up cookie's base name (`cookie.name`). @default "stepup" */
  cookieName?: string;
  /** The app's own session cookie, for the `appSession` security scheme. @default "session" */
  appSessionCookie?: string;
}

const DESCRIPTION = `Step-up MFA: a signed-in user (the app's own session) proves a second factor again before a sensitive action.

Every error is RFC 9457 \`application/problem+json\` with a stable \`error\` code (${ERROR_CODES.length} codes; match the code, never \`detail\`). A browser navigation or form post gets an HTML page instead where one is listed.

The guard in front of the app's own sensitive routes answers with the \`Guard*\` responses (components): spread \`guardResponses()\` of @stepup/http into your own operations. A step-up token (\`POST api/token\`) sent as \`Authorization: Bearer\` (the \`stepUpToken\` scheme) passes the guard in place of the step-up cookie. When it lets a request run, the route's own response may carry the headers in \`components.headers\` (\`guardHeaders()\`).`;

/**
 * The OpenAPI 3.1 document of everything under `basePath`: the JSON API, the pages, the browser
 * bundle and this document's own route, with the guard's responses as reusable components. Built
 * from the same tables the code uses: error codes and statuses from core's `errorStatus`, factor
 * types (and the bodies that depend on them) from the configured factors.
 *
 * @throws TypeError for a `basePath` that is not a path like /stepup
 * @example
 * const doc = openApiDocument({ basePath: "/stepup", factors: [totp(), recoveryCodes()] });
 */
export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const basePath = options.basePath ?? "/stepup";
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(basePath))
    throw new TypeError("stepup: option `basePath` must be a path like /stepup");
  const plugins = [...options.factors];
  const factors = factorDocs(plugins);
  const recovery = plugins.some((f) => f.type === "recovery" && f.recovery === true);
  const cookieName = options.cookieName ?? "stepup";
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    info: { title: "stepup", version: API_VERSION, description: DESCRIPTION },
    tags: [
      { name: "api", description: "The JSON API (what @stepup/browser calls)." },
      { name: "pages", description: "HTML pages and their forms; they work without JavaScript." },
      { name: "static", description: "Public, cacheable: no user needed." },
      {
        name: "admin",
        description:
          "The admin API: only with `authorizeAdmin` (404 otherwise), for the users it accepts, each with a fresh step-up of their own (`stepup:admin`).",
      },
    ],
    paths: {
      ...apiPaths(basePath, factors, recovery),
      ...pagePaths(basePath, factors, recovery),
      ...adminPaths(basePath),
    },
    components: {
      schemas: {
        ...apiSchemas(factors, recovery),
        ...AUDIT_SCHEMAS,
        ...ADMIN_SCHEMAS,
        ...FACTOR_COMMON,
        ...problemSchemas(),
      },
      responses: { ...guardComponents(), InternalError: internalErrorResponse },
      headers: guardHeaderComponents(),
      securitySchemes: {
        appSession: {
          type: "apiKey",
          in: "cookie",
          name: options.appSessionCookie ?? "session",
          description:
            "The app's own sign-in, whatever it is (a session cookie, a bearer token): its `getUser` says who is signed in. stepup never authenticates the first factor.",
        },
        stepUpCookie: {
          type: "apiKey",
          in: "cookie",
          name: cookieName,
          description: `The step-up session: HttpOnly, SameSite=Lax, sealed; it points to server-side state and proves nothing by itself. Sent as \`__Host-${cookieName}\` when Secure (\`__Secure-${cookieName}\` with a domain). Issued by the API and the guard, rotated by every verification.`,
        },
        stepUpToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A step-up token (`POST api/token`, when tokens are on) as `Authorization: Bearer`: on the app's guarded routes it proves a fresh step-up of the same user for the same rule in place of the step-up cookie (the app's `getUser` still says who is signed in). Checked on each request: signature, `exp`, `sub`, `scope`, `auth_time` within the rule's maxAge, and no revocation or logout since; a transaction rule's token works once.",
        },
        signInCookie: {
          type: "apiKey",
          in: "cookie",
          name: `${cookieName}_signin`,
          description: `A pending sign-in (\`beginSignIn\`, after the app's password check): HttpOnly, sealed, as long-lived as a challenge. With no app session it stands in for the user on the sign-in challenge's routes only (the challenge page and its form, start and verify), for a challenge of \`session:sign-in\`; anywhere else it is nobody. Sent as \`__Host-${cookieName}_signin\` when Secure.`,
        },
      },
    },
    security: [{ appSession: [] }],
  };
}
