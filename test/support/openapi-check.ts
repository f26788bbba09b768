import SwaggerParser from "@apidevtools/swagger-parser";
import { guardResponses, type OpenApiDocument } from "@stepup/http";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";

// Checks real responses against the OpenAPI document: the operation (method + path template), the
// status, the required headers, the content type and the body (JSON Schema 2020-12, Ajv). Anything
// the document does not list fails: an undocumented path, status or content type.

/** What is read of a response (a supertest response fits). */
export interface SeenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The request: its method and URL (absolute, or a path). */
  request: { method: string; url: string };
}

interface MediaType {
  schema: object;
}
interface ResponseObject {
  description: string;
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseObject>;
}
type Dereferenced = {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, ResponseObject> };
};

export interface OpenApiChecker {
  /** Checks a response of a documented operation; returns the operation id. */
  check(res: SeenResponse): string;
  /** Checks a response of an app route behind the guard against the `Guard*` components. */
  checkGuard(res: SeenResponse): string;
  /** `operationId status` of every response checked, in order. */
  readonly seen: string[];
}

/** Compiles the document's schemas (dereferenced) into a checker of real responses. */
export async function openApiChecker(doc: OpenApiDocument): Promise<OpenApiChecker> {
  // swagger-parser's types are OpenAPI 3.0's: the document is 3.1, which it validates too.
  const api = (await SwaggerParser.dereference(structuredClone(doc) as never)) as unknown as Dereferenced;
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  formats.default(ajv);
  const compiled = new Map<object, ValidateFunction>();
  const validator = (schema: object) => {
    let v = compiled.get(schema);
    if (!v) {
      v = ajv.compile(schema);
      compiled.set(schema, v);
    }
    return v;
  };

  const templates = Object.keys(api.paths).map((template) => {
    const params = (template.match(/\{[^}]+\}/g) ?? []).length;
    const pattern = template
      .split(/\{[^}]+\}/)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]+");
    return { template, params, regex: new RegExp(`^${pattern}$`) };
  });
  // Literal paths first (`factors/totp` before `factors/{factorId}`), as OpenAPI matches them.
  templates.sort((a, b) => a.params - b.params);

  const seen: string[] = [];

  function against(res: SeenResponse, where: string, response: ResponseObject): void {
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (header.required && res.headers[name.toLowerCase()] === undefined)
        throw new Error(`${where}: required header ${name} is missing`);
    }
    const type = String(res.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim();
    if (!response.content) {
      if (res.text)
        throw new Error(`${where}: documented without a body, got ${type}: ${res.text.slice(0, 200)}`);
      return;
    }
    const media = type ? response.content[type] : undefined;
    if (!media)
      throw new Error(
        `${where}: content type "${type}" is not documented (${Object.keys(response.content).join(", ")})`,
      );
    if (res.request.method === "HEAD") return;
    const body: unknown = /[/+]json$/.test(type ?? "") ? JSON.parse(res.text) : res.text;
    const validate = validator(media.schema);
    if (!validate(body)) {
      throw new Error(
        `${where} ${type}: the body does not match the document: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 600)}`,
      );
    }
  }

  function documented(responses: Record<string, ResponseObject>, status: number, where: string) {
    const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!response)
      throw new Error(
        `${where}: status ${status} is not documented (documented: ${Object.keys(responses).join(", ")})`,
      );
    return response;
  }

  const guard = guardResponses();
  return {
    seen,
    check(res) {
      const method = res.request.method.toLowerCase();
      const path = new URL(res.request.url, "http://localhost").pathname;
      const match = templates.find((t) => t.regex.test(path) && api.paths[t.template]?.[method]);
      const operation = match && api.paths[match.template]?.[method];
      if (!match || !operation)
        throw new Error(`${res.request.method} ${path} is not a documented operation`);
      const where = `${res.request.method} ${match.template} -> ${res.status}`;
      against(res, where, documented(operation.responses, res.status, where));
      seen.push(`${operation.operationId} ${res.status}`);
      return operation.operationId;
    },
    checkGuard(res) {
      const where = `guard: ${res.request.method} ${new URL(res.request.url, "http://localhost").pathname} -> ${res.status}`;
      const ref = guard[String(res.status)];
      const name = ref?.$ref.split("/").pop();
      const response = name ? api.components.responses[name] : undefined;
      if (!name || !response)
        throw new Error(`${where}: status ${res.status} is not a documented guard response`);
      against(res, where, response);
      seen.push(`guard:${name} ${res.status}`);
      return name;
    },
  };
}
