import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/** The files served under `{basePath}/assets/`, by name, resolved from installed packages. */
const SOURCES: Readonly<Record<string, string>> = { "stepup.js": "@stepup/browser/bundle" };

const cache = new Map<string, Asset | null>();

/** Reads an asset once per process and keeps it in memory; null when it is not installed or built. */
function load(name: string, log: (message: string, meta: Record<string, unknown>) => void): Asset | null {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const specifier = SOURCES[name];
  let asset: Asset | null = null;
  if (specifier) {
    try {
      const body = new Uint8Array(readFileSync(createRequire(import.meta.url).resolve(specifier)));
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
      asset = { body, etag };
    } catch (error) {
      // Pages still work without it (plain forms); say why passkeys are missing, once.
      log("browser bundle unavailable", { asset: name, error: String(error) });
    }
  }
  cache.set(name, asset);
  return asset;
}

/**
 * GET/HEAD `{basePath}/assets/:name`: the browser bundle of @stepup/browser, from memory, with a
 * strong ETag (304 on a match) and an hour of public caching. Unknown names are 404.
 */
export function serveAsset(
  request: Request,
  name: string,
  log: (message: string, meta: Record<string, unknown>) => void,
): Response {
  const asset = request.method === "GET" || request.method === "HEAD" ? load(name, log) : null;
  if (!asset) {
    const status = request.method === "GET" || request.method === "HEAD" ? 404 : 405;
    return new Response(null, { status, headers: { "cache-control": "no-store" } });
  }
  const headers = new Headers({
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=3600",
    etag: asset.etag,
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "same-origin",
  });
  if (request.headers.get("if-none-match") === asset.etag)
    return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
}
