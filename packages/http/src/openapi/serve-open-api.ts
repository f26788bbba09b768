import { StepUpError } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import { openApiDocument } from "./openapi.js";

/** The document's JSON per HTTP layer: it depends only on the configuration, so it is built once. */
const cache = new WeakMap<HttpContext, string>();

/**
 * GET/HEAD `{basePath}/openapi.json`: the OpenAPI document of this configuration. Public (it holds
 * nothing but the configured factor types) and cacheable for five minutes.
 * @throws StepUpError METHOD_NOT_ALLOWED for another method
 */
export function serveOpenApi(http: HttpContext, request: Request, cookieName: string): Response {
  if (request.method !== "GET" && request.method !== "HEAD")
    throw new StepUpError("METHOD_NOT_ALLOWED", "Method not allowed.");
  let text = cache.get(http);
  if (text === undefined) {
    const factors = http.engine.config.factors.values();
    text = JSON.stringify(openApiDocument({ basePath: http.basePath, factors, cookieName }));
    cache.set(http, text);
  }
  return new Response(request.method === "HEAD" ? null : text, {
    status: 200,
    headers: {
      "content-type": "application/json",
      "cache-control": "public, max-age=300",
      "x-content-type-options": "nosniff",
    },
  });
}
