// Drift: the OpenAPI document is a valid OpenAPI 3.1 document for every configuration, its schemas
// compile as strict JSON Schema 2020-12, and it says what core's tables say (every error code with
// its status, only the configured factor types).
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import { errorStatus, type FactorPlugin, recoveryCodes, totp, webauthn } from "@stepup/core";
import { guardHeaders, guardResponses, type OpenApiDocument, openApiDocument } from "@stepup/http";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { describe, expect, it } from "vitest";

const passkeys = () => webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] });

/** A custom plugin stepup does not know: documented by its shapes only. */
const custom: FactorPlugin = {
  type: "email-otp",
  level: "mfa",
  amr: ["otp"],
  ui: {
    title: "Email code",
    prompt: { kind: "code", label: "Code from the email", digits: 6, send: true },
    enroll: {
      button: "Add email",
      title: "Set up email codes",
      fields: [{ name: "address", label: "Email address", type: "email", required: true }],
    },
  },
  enrollStart: async () => ({ pending: {}, response: {}, name: "Email" }),
  enrollConfirm: async () => null,
  verify: async () => ({ ok: false, reason: "INVALID_CODE" }),
};

const CONFIGS: Record<string, FactorPlugin[]> = {
  "the Express demo's (totp, recovery codes)": [totp(), recoveryCodes()],
  "every factor (totp, webauthn, recovery codes)": [totp(), passkeys(), recoveryCodes()],
  "TOTP alone": [totp()],
  "passkeys alone": [passkeys()],
  "a custom factor plugin": [totp(), custom, recoveryCodes()],
  // Stand-ins named like the shipped email and SMS plugins: documented with their known bodies.
  "email and SMS codes": [totp(), { ...custom, type: "email" }, { ...custom, type: "sms" }, recoveryCodes()],
};

const json = (doc: OpenApiDocument) => JSON.parse(JSON.stringify(doc)) as OpenApiDocument;

describe.each(Object.entries(CONFIGS))("the OpenAPI document for %s", (_name, factors) => {
  const doc = openApiDocument({ basePath: "/stepup", factors });

  it("validates as OpenAPI 3.1 (swagger-parser)", async () => {
    await expect(SwaggerParser.validate(json(doc) as never)).resolves.toBeTruthy();
  });

  it("has schemas that compile as strict JSON Schema 2020-12 (Ajv), inline ones too", async () => {
    const api = (await SwaggerParser.dereference(json(doc) as never)) as unknown as OpenApiDocument;
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    formats.default(ajv);
    const schemas = [...Object.entries(api.components.schemas), ...inlineSchemas(api.paths, "paths")];
    for (const [where, schema] of schemas) expect(() => ajv.compile(schema), where).not.toThrow();
    expect(schemas.length).toBeGreaterThan(50);
  });

  it("lists only the configured factor types", () => {
    const types = factors.map((f) => f.type);
    expect(doc.components.schemas.FactorType?.enum).toEqual(types);
    const enrolled = Object.keys(doc.paths)
      .map((p) => /^\/stepup\/api\/factors\/([^/{]+)$/.exec(p)?.[1])
      .filter(Boolean);
    expect(enrolled).toEqual(factors.filter((f) => !f.recovery).map((f) => f.type));
    const verify = doc.components.schemas.VerifyRequest?.oneOf ?? [];
    expect(verify.map((s) => s.properties?.factor?.const)).toEqual(types);
    expect(Boolean(doc.paths["/stepup/api/recovery-codes"])).toBe(types.includes("recovery"));
  });
});

describe("the OpenAPI document and core's tables", () => {
  const doc = openApiDocument({ basePath: "/stepup", factors: [totp(), passkeys(), recoveryCodes()] });

  it("has a problem schema for every error code, with errorStatus's status", () => {
    for (const [code, status] of Object.entries(errorStatus)) {
      const schema = Object.values(doc.components.schemas).find(
        (s) => s.properties?.error?.const === code.toLowerCase(),
      );
      expect(schema?.properties?.status?.const, code).toBe(status);
      expect(schema?.description, code).toBeTruthy();
    }
  });

  it("documents every error response with the status errorStatus gives its codes", () => {
    const problems = new Map(
      Object.entries(doc.components.schemas).map(([name, s]) => [`#/components/schemas/${name}`, s]),
    );
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === "parameters") continue;
        for (const [status, response] of Object.entries((op as { responses: object }).responses)) {
          const schema = (
            response as {
              content?: Record<string, { schema: { $ref?: string; oneOf?: { $ref?: string }[] } }>;
            }
          ).content?.["application/problem+json"]?.schema;
          if (!schema) continue;
          for (const ref of schema.oneOf ?? [schema]) {
            expect(
              problems.get(ref.$ref ?? "")?.properties?.status?.const,
              `${method} ${path} ${status}`,
            ).toBe(Number(status));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("gives the guard's responses as components, for 303 (signInUrl), 400, 401, 403, 413, 429, 500 and 503", () => {
    const refs = guardResponses();
    expect(Object.keys(refs).sort()).toEqual(["303", "400", "401", "403", "413", "429", "500", "503"]);
    for (const ref of Object.values(refs))
      expect(doc.components.responses[ref.$ref.split("/").pop() ?? ""], ref.$ref).toBeDefined();
  });

  it("gives the headers a guarded route's own response may carry (Stepup-Enroll-By) as components", () => {
    const refs = guardHeaders();
    expect(Object.keys(refs)).toEqual(["Stepup-Enroll-By"]);
    for (const ref of Object.values(refs))
      expect(doc.components.headers[ref.$ref.split("/").pop() ?? ""], ref.$ref).toMatchObject({
        schema: { type: "string", format: "date-time" },
      });
  });

  it("follows basePath and the cookie name", () => {
    const moved = openApiDocument({ basePath: "/auth/mfa", factors: [totp()], cookieName: "mfa" });
    expect(Object.keys(moved.paths).every((p) => p.startsWith("/auth/mfa/"))).toBe(true);
    expect(moved.components.securitySchemes.stepUpCookie).toMatchObject({ in: "cookie", name: "mfa" });
    expect(() => openApiDocument({ basePath: "stepup", factors: [totp()] })).toThrow(TypeError);
  });

  it("carries @stepup/http's version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../packages/http/package.json", import.meta.url), "utf8"));
    expect(doc.info.version).toBe(pkg.version);
  });
});

/** Every `schema` under `value` (parameters, bodies, responses, headers), with where it is. */
function inlineSchemas(value: unknown, where: string): [string, object][] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, v]): [string, object][] =>
    key === "schema" && typeof v === "object" && v !== null
      ? [[`${where}/schema`, v]]
      : inlineSchemas(v, `${where}/${key}`),
  );
}
