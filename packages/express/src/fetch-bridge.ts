import { Readable } from "node:stream";
import { StepUpError } from "@stepup/core";
import type { GuardRequest } from "@stepup/http";
import type { Request as ExpressRequest, Response as ExpressResponse } from "express";

/**
 * The absolute URL of an Express request (honours `trust proxy` through req.protocol). An
 * absolute-form request target (`GET http://host/path`, RFC 9112 section 3.2.2) keeps only its path;
 * a Host header that makes no valid URL is a client error, never a 500. So is one that is more than
 * a host and port: userinfo (`a@b`, which a Fetch `Request` refuses outright), or a path, query or
 * fragment that would move the request to another URL than the one it was sent to.
 * @throws StepUpError INVALID_INPUT
 */
export function urlOf(req: ExpressRequest): string {
  let path = req.originalUrl;
  if (!path.startsWith("/")) {
    try {
      const target = new URL(path);
      path = target.pathname + target.search;
    } catch {
      path = "/";
    }
  }
  const host = req.get("host") ?? "localhost";
  const url = `${req.protocol}://${host}${path}`;
  if (/[@/\\?#\s]/.test(host) || !URL.canParse(url))
    throw new StepUpError("INVALID_INPUT", "The request's Host header is not valid.");
  return url;
}

/** A light view of the request for the guard: no Fetch objects, no closures on the hot path. */
export class ExpressGuardRequest implements GuardRequest {
  readonly #req: ExpressRequest;
  constructor(req: ExpressRequest) {
    this.#req = req;
  }
  get method(): string {
    return this.#req.method;
  }
  get url(): string {
    return urlOf(this.#req);
  }
  get headers(): { get(name: string): string | null } {
    return this;
  }
  get(name: string): string | null {
    const value = this.#req.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  }
}

/** The guard's view of an Express request. */
export function guardView(req: ExpressRequest): GuardRequest {
  return new ExpressGuardRequest(req);
}

/**
 * `req.body` as the app's body parser left it, or undefined when no parser read the body. Express 4's
 * parsers (body-parser 1) set `req.body = {}` for a content type they do not handle and leave the
 * stream unread; Express 5's leave `req.body` undefined.
 */
function parsedBody(req: ExpressRequest): unknown {
  const body: unknown = req.body;
  if (req.readableEnded || body === undefined) return body;
  const unreadPlaceholder =
    typeof body === "object" &&
    body !== null &&
    Object.getPrototypeOf(body) === Object.prototype &&
    Object.keys(body).length === 0;
  return unreadPlaceholder ? undefined : body;
}

/** The original urlencoded fields of a form POST (for re-submission after a step-up). */
export function formFields(req: ExpressRequest): [string, string][] | undefined {
  if (req.method !== "POST" || !req.is("application/x-www-form-urlencoded")) return undefined;
  const body = parsedBody(req);
  if (!body || typeof body !== "object") return undefined;
  const fields: [string, string][] = [];
  for (const [key, value] of Object.entries(body)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string") fields.push([key, v]);
    }
  }
  return fields;
}

/**
 * JSON text again for a body the app's parser already turned into a value. JSON.parse is iterative
 * but JSON.stringify recurses: a body of 20,000 nested arrays parses, then overflows the stack here.
 * @throws StepUpError INVALID_INPUT
 */
function reencodeJson(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    if (error instanceof RangeError) throw new StepUpError("INVALID_INPUT", "The body is nested too deeply.");
    throw error;
  }
}

/**
 * An Express request as a Fetch `Request`. When an app-level body parser already consumed the body
 * (`express.json()`, `express.urlencoded()`), it is re-encoded from `req.body`.
 * @throws StepUpError INVALID_INPUT for a Host header that makes no URL, or a body nested too deeply
 */
export function toFetchRequest(req: ExpressRequest): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers };
  if (req.method !== "GET" && req.method !== "HEAD") {
    const body = parsedBody(req);
    if (req.readableEnded || body !== undefined) {
      if (req.is("application/x-www-form-urlencoded") && body && typeof body === "object") {
        init.body = new URLSearchParams(formFields(req) ?? []).toString();
      } else if (body !== undefined && typeof body === "object" && Object.keys(body as object).length > 0) {
        init.body = reencodeJson(body);
      } else if (typeof body === "string" || Buffer.isBuffer(body)) {
        init.body = typeof body === "string" ? body : new Uint8Array(body);
      }
      headers.delete("content-length");
    } else {
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      init.duplex = "half";
    }
  }
  return new Request(urlOf(req), init);
}

/** Writes a Fetch `Response` to Express (every Set-Cookie kept apart). */
export async function sendResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") res.setHeader(key, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.append("set-cookie", cookies);
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}
