import type { OpenApiDocument } from "@stepup/http";

// Renders the README's "HTTP API and error codes" section from the OpenAPI document: the operations
// (method, path, request body, responses), the guard's responses and the error codes. Bodies are
// shown by shape (`{ factor: "totp", factorId?, code }`), errors by code.

type Schema = OpenApiDocument["components"]["schemas"][string];
type Json = Record<string, unknown>;

export const API_START = "<!-- api:start -->";
export const API_END = "<!-- api:end -->";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  const ref = schema.$ref;
  if (!ref) return schema;
  const target = doc.components.schemas[ref.split("/").pop() ?? ""];
  if (!target) throw new Error(`dangling ${ref}`);
  return resolve(doc, target);
}

/** A body's shape in one line: `{ a, b?, c: "x" }`, alternatives joined with `|`. */
function shape(doc: OpenApiDocument, raw: Schema, depth = 0): string {
  const schema = resolve(doc, raw);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return alternatives.map((s) => shape(doc, s, depth)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === "array" && schema.items && depth < 1) return `[${shape(doc, schema.items, depth + 1)}]`;
  if (schema.type !== "object") return "";
  if (schema.maxProperties === 0 || !schema.properties) return "{}";
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties).map(([name, s]) => {
    const value = resolve(doc, s);
    const fixed =
      value.const !== undefined ? `: ${JSON.stringify(value.const)}` : value.type === "null" ? ": null" : "";
    return `${name}${required.has(name) ? "" : "?"}${fixed}`;
  });
  return `{ ${fields.join(", ")} }`;
}

/** The `error` codes a problem schema (or a `oneOf` of them) allows. */
function codesOf(doc: OpenApiDocument, schema: Schema): string[] {
  const resolved = resolve(doc, schema);
  if (resolved.oneOf) return resolved.oneOf.flatMap((s) => codesOf(doc, s));
  const code = resolved.properties?.error?.const;
  return typeof code === "string" ? [code] : [];
}

interface Response {
  $ref?: string;
  description?: string;
  content?: Record<string, { schema: Schema }>;
  "x-errors"?: string[];
}

const codeList = (codes: readonly string[]) => codes.map((c) => `\`${c}\``).join(", ");

function response(doc: OpenApiDocument, status: string, raw: Response): string {
  const res = raw.$ref
    ? (doc.components.responses[raw.$ref.split("/").pop() ?? ""] as Response | undefined)
    : raw;
  if (!res) throw new Error(`dangling ${raw.$ref}`);
  const content = res.content ?? {};
  const problem = content["application/problem+json"];
  if (problem) {
    const json = codesOf(doc, problem.schema);
    if (!content["text/html"]) return `${status} ${codeList(json)}`;
    const pageOnly = (res["x-errors"] ?? []).filter((c) => !json.includes(c));
    return `${status} ${codeList(json)} (or a page)${pageOnly.length > 0 ? `, page (${codeList(pageOnly)})` : ""}`;
  }
  const json = content["application/json"];
  if (json) {
    const body = shape(doc, json.schema);
    return body && body.length <= 120 ? `${status} \`${body}\`` : `${status} JSON`;
  }
  if (content["text/html"]) {
    const codes = res["x-errors"] ?? [];
    return codes.length > 0 ? `${status} page (${codeList(codes)})` : `${status} page`;
  }
  const other = Object.keys(content)[0];
  return other ? `${status} ${other}` : `${status}`;
}

function operations(doc: OpenApiDocument): string[] {
  const rows = ["| method | path | what | request body | responses |", "|---|---|---|---|---|"];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Json)) {
      if (method === "parameters") continue;
      const operation = op as {
        summary: string;
        parameters?: { name: string; in: string; required?: boolean }[];
        requestBody?: { content: Record<string, { schema: Schema }> };
        responses: Record<string, Response>;
      };
      const [type, media] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
      const query = (operation.parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => `${p.name}${p.required ? "" : "?"}`);
      const request = media
        ? `${type === "application/x-www-form-urlencoded" ? "form " : ""}\`${shape(doc, media.schema)}\``
        : query.length > 0
          ? `query \`${query.join(", ")}\``
          : "";
      const responses = Object.entries(operation.responses)
        .filter(([status]) => status !== "500")
        .map(([status, r]) => response(doc, status, r));
      rows.push(
        `| \`${method.toUpperCase()}\` | \`${path}\` | ${cell(operation.summary)} | ${cell(request)} | ${cell(responses.join("; "))} |`,
      );
    }
  }
  return rows;
}

function guard(doc: OpenApiDocument): string[] {
  const rows = ["| status | `error` | component | when |", "|---|---|---|---|"];
  const statusOf = (code: string) =>
    Object.values(doc.components.schemas).find((s) => s.properties?.error?.const === code)?.properties?.status
      ?.const;
  for (const [name, r] of Object.entries(doc.components.responses)) {
    const problem = (r as Response).content?.["application/problem+json"];
    if (!name.startsWith("Guard") || !problem) continue;
    const codes = codesOf(doc, problem.schema);
    const page = (r as Response).content?.["text/html"] ? " (or a page)" : "";
    rows.push(
      `| ${statusOf(codes[0] ?? "")} | ${codeList(codes)}${page} | \`${name}\` | ${cell((r as Response).description ?? "")} |`,
    );
  }
  return rows;
}

/** The headers a guarded route's own response may carry (`components.headers`). */
function guardHeaderRows(doc: OpenApiDocument): string[] {
  const headers = Object.values(doc.components.headers ?? {});
  if (headers.length === 0) return [];
  return [
    "",
    "When the guard lets a request run, the route's own response may carry (`guardHeaders()` gives their `$ref`s):",
    "",
    ...headers.map((h) => `- ${cell(h.description)}`),
  ];
}

function errors(doc: OpenApiDocument): string[] {
  const rows = ["| `error` | status | when |", "|---|---|---|"];
  for (const schema of Object.values(doc.components.schemas)) {
    const code = schema.properties?.error?.const;
    if (typeof code !== "string") continue;
    rows.push(`| \`${code}\` | ${schema.properties?.status?.const} | ${cell(schema.description ?? "")} |`);
  }
  return rows;
}

/** The README section between the markers (the markers included). */
export function apiMarkdown(doc: OpenApiDocument, factors: readonly string[]): string {
  const base = Object.keys(doc.paths)[0]?.split("/api/")[0] ?? "";
  return [
    API_START,
    "<!-- Generated from openApiDocument() by `npm run api-docs`; edit src/openapi/ in @stepup/http, not this. -->",
    "",
    `Everything below is generated from the OpenAPI 3.1 document that \`createStepUpHttp\` serves at \`GET ${base}/openapi.json\` (here with ${factors.join(", ")} configured; the served document lists only your factor types). A body field with \`?\` is optional. Any operation may also answer 500 \`internal_error\` (logged server-side; the body says nothing about it).`,
    "",
    ...operations(doc),
    "",
    "What any route behind `requireStepUp` / `withStepUp` may answer instead of running the handler (components `Guard*`; `guardResponses()` gives their `$ref`s for your own document):",
    "",
    ...guard(doc),
    ...guardHeaderRows(doc),
    "",
    "Every error is `application/problem+json` (RFC 9457) with a stable `error` code: match the code, never `detail`.",
    "",
    ...errors(doc),
    API_END,
  ].join("\n");
}
