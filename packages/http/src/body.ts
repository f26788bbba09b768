import { StepUpError } from "@stepup/core";

/** Requests bodies stepup reads are small: a code, a name, a WebAuthn response. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The deepest nesting accepted in a JSON body or in transaction details. Stepup's own bodies nest
 * three or four levels (a WebAuthn response); code that walks a value recursively (JSON.stringify,
 * a canonical form) overflows the stack on thousands of levels, which 64 KiB of `[` can carry.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text nests deeper than `max` (brackets inside strings do not count). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character: `\"` does not end the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Reads a request body into memory, at most `limit` bytes, counted as it streams: a missing or lying
 * Content-Length cannot make it buffer more. For adapters that read a body before the handler (a
 * form post's fields, a transaction's details): read a clone and the handler keeps the body.
 *
 * @param limit - bytes. @default MAX_BODY_BYTES (64 KiB)
 * @throws StepUpError PAYLOAD_TOO_LARGE over `limit` (declared or streamed)
 * @example
 * const bytes = await readBodyBytes(request.clone());
 */
export async function readBodyBytes(
  request: Request,
  limit = MAX_BODY_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit)
    throw new StepUpError("PAYLOAD_TOO_LARGE", `The body must be at most ${limit} bytes.`);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    // Counted as it streams: a missing or lying Content-Length cannot make us buffer more.
    if (size > limit) {
      // Not awaited: cancelling one branch of a tee (a clone's body) settles only once the other
      // branch is cancelled too, so awaiting it would hang a reader of `request.clone()`.
      reader.cancel().catch(() => {});
      throw new StepUpError("PAYLOAD_TOO_LARGE", `The body must be at most ${limit} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

async function readText(request: Request, limit: number): Promise<string> {
  const bytes = await readBodyBytes(request, limit);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** Reads a JSON object body; 415 for another type, 400 for malformed, too deeply nested JSON or a non-object. */
export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  const text = await readText(request, limit);
  if (text.trim() === "") return {};
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new StepUpError("UNSUPPORTED_MEDIA_TYPE", "Send JSON with Content-Type: application/json.");
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new StepUpError("INVALID_INPUT", `The body must not nest deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StepUpError("INVALID_INPUT", "The body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StepUpError("INVALID_INPUT", "The body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** Reads an urlencoded form body (the pages' forms). */
export async function readForm(request: Request, limit = MAX_BODY_BYTES): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new StepUpError("UNSUPPORTED_MEDIA_TYPE", "Send an urlencoded form.");
  }
  return new URLSearchParams(await readText(request, limit));
}
