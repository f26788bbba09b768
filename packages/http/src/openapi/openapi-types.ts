// The parts of OpenAPI 3.1 (https://spec.openapis.org/oas/v3.1.0) that stepup's document uses, typed
// closed: a misspelt keyword is a type error, not a silently ignored field.

/** A JSON Schema 2020-12 schema (OpenAPI 3.1's dialect), the keywords stepup uses. */
export interface Schema {
  $ref?: string;
  title?: string;
  description?: string;
  type?: SchemaType | SchemaType[];
  const?: string | number | boolean | null;
  enum?: readonly (string | number | boolean | null)[];
  format?: "date-time" | "uri" | "uri-reference" | "email";
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: Schema | boolean;
  maxProperties?: number;
  propertyNames?: Schema;
  oneOf?: readonly Schema[];
  anyOf?: readonly Schema[];
  examples?: readonly unknown[];
  contentMediaType?: string;
}

export type SchemaType = "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";

/** A `$ref` to a component. */
export interface Reference {
  $ref: string;
}

export interface MediaType {
  schema: Schema;
}

export interface Header {
  description: string;
  required?: boolean;
  schema: Schema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, Header>;
  content?: Record<string, MediaType>;
  /**
   * Specification extension: the `error` codes this response stands for. A page carries no code in
   * its body, so for a page this is where the document says which errors it shows.
   */
  "x-errors"?: string[];
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  description?: string;
  required?: boolean;
  schema: Schema;
}

export interface RequestBody {
  description?: string;
  required?: boolean;
  content: Record<string, MediaType>;
}

/** Security requirement: scheme names, all of which must be satisfied together. */
export type SecurityRequirement = Record<string, string[]>;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: RequestBody;
  responses: Record<string, ResponseObject | Reference>;
  /** Alternatives: any one requirement suffices; `[]` means public. */
  security?: SecurityRequirement[];
}

export type HttpMethod = "get" | "head" | "post" | "patch" | "delete";

export type PathItem = Partial<Record<HttpMethod, Operation>> & { parameters?: Parameter[] };

export type SecurityScheme =
  | { type: "apiKey"; in: "cookie" | "header" | "query"; name: string; description: string }
  | { type: "http"; scheme: "bearer"; bearerFormat?: string; description: string };

export interface OpenApiDocument {
  openapi: "3.1.0";
  jsonSchemaDialect: string;
  info: { title: string; version: string; summary?: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, ResponseObject>;
    headers: Record<string, Header>;
    securitySchemes: Record<string, SecurityScheme>;
  };
  security: SecurityRequirement[];
}
