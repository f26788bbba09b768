import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { StepUpError } from "@stepup/core";

/**
 * Cross-site request checks. State-changing calls must come from an allowed origin: the `Origin`
 * header (sent by every current browser on POST), else `Referer`; a request with neither is refused
 * unless it carries no cookies of ours at all (a server-to-server client has no session to abuse).
 */
export function checkOrigin(request: Request, allowed: readonly string[]): void {
  const url = new URL(request.url);
  const origins = allowed.length > 0 ? allowed : [url.origin];
  const origin = request.headers.get("origin");
  if (origin !== null) {
    if (origins.includes(origin)) return;
    throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
  }
  const referer = request.headers.get("referer");
  if (referer !== null) {
    let refOrigin = "";
    try {
      refOrigin = new URL(referer).origin;
    } catch {}
    if (origins.includes(refOrigin)) return;
    throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
  }
  if (request.headers.get("sec-fetch-site") === "cross-site") {
    throw new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
  }
}

/** Stateless CSRF tokens for the pages' forms: an HMAC of what the form acts on. */
export function createCsrf(secret: string) {
  const key = Buffer.from(hkdfSync("sha256", secret, "stepup/v1", "csrf", 32));
  const sign = (binding: string) => createHmac("sha256", key).update(binding).digest("base64url");
  return {
    token: sign,
    verify(binding: string, token: unknown): void {
      const expected = Buffer.from(sign(binding));
      const actual = Buffer.from(typeof token === "string" ? token : "");
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        throw new StepUpError(
          "CSRF_FAILED",
          "The form expired or came from another site. Reload and try again.",
        );
      }
    },
  };
}

/**
 * Whether a `returnTo` is a same-origin path. Anything that could leave the origin
 * (`//evil`, `/\evil`, `https://evil`, control characters) is refused.
 */
export function safeReturnTo(value: unknown, base: URL): string | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return undefined;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  try {
    const resolved = new URL(value, base);
    const path = resolved.pathname + resolved.search;
    // Dot segments can normalise into "//host" ("/.//evil" -> "//evil"): check the result, not only the input.
    if (resolved.origin !== base.origin || path.startsWith("//") || path.startsWith("/\\")) return undefined;
    return path;
  } catch {
    return undefined;
  }
}

/** Whether the client wants a page (browser navigation or form) rather than JSON. */
export function wantsHtml(request: { headers: { get(name: string): string | null } }): boolean {
  if (request.headers.get("authorization")) return false;
  const mode = request.headers.get("sec-fetch-mode");
  if (mode !== null && mode !== "navigate") return false;
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("text/html");
}
