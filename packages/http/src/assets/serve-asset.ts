import { createHash } from "node:crypto";
import { source as stepupJs } from "@stepup/browser/bundle-source";

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

/**
 * The files served under `{basePath}/assets/`. The bundle arrives as a module (a string export), not
 * a file path: a server that is bundled itself (Next's Turbopack) carries modules, not package files.
 */
const SOURCES: Readonly<Record<string, string>> = { "stepup.js": stepupJs };

/** Encoded assets, by name: only names in SOURCES ever enter (a request's name is never a key). */
const cache = new Map<string, Asset>();

/** How many assets are held in memory (bounded by SOURCES: tests fill it with unknown names). */
export const cachedAssetCount = (): number => cache.size;

/** Encodes an asset once per process and keeps it in memory; null for an unknown name. */
function load(name: string): Asset | null {
  if (!Object.hasOwn(SOURCES, name)) return null;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const body = new Uint8Array(Buffer.from(SOURCES[name] as string, "utf8"));
  const asset = { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
  cache.set(name, asset);
  return asset;
}

/**
 * GET/HEAD `{basePath}/assets/:name`: the browser bundle of @stepup/browser, from memory, with a
 * strong ETag (304 on a match) and an hour of public caching. Unknown names are 404.
 */
export function serveAsset(request: Request, name: string): Response {
  const asset = request.method === "GET" || request.method === "HEAD" ? load(name) : null;
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
