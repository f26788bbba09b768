import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { StepUpError } from "@stepup/core";

type Headered = { readonly url: string; readonly headers: { get(name: string): string | null } };

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a state-changing request comes from another site: `Sec-Fetch-Site: cross-site`, an
 * `Origin` that is not the request's own origin nor trusted (`Origin: null`, sent by sandboxed
 * frames and some redirects, is foreign), or, with no `Origin`, a `Referer` from elsewhere. The guard refuses
 * these before anything is read, stored or run.
 */
export function crossOriginWrite(request: Headered, trusted: readonly string[]): boolean {
  const allowed = (origin: string | undefined) =>
    origin !== undefined && (trusted.includes(origin) || origin === new URL(request.url).origin);
  // The browser sets Sec-Fetch-Site itself: cross-site is refused whatever else the request says.
  if (request.headers.get("sec-fetch-site") === "cross-site") return true;
  const origin = request.headers.get("origin");
  if (origin !== null) return !allowed(origin);
  const referer = request.headers.get("referer");
  if (referer !== null) return !allowed(originOf(referer));
  return false;
}

/**
 * Cross-site request checks for stepup's own API and forms. On top of `crossOriginWrite`, a call
 * that carries cookies (ambient authority a forged request could borrow) must say where it comes
 * from: `Origin`, `Referer` or `Sec-Fetch-Site: same-origin`. A client with no cookies at all (a
 * server-to-server call) has no session to abuse and passes.
 * @throws StepUpError ORIGIN_MISMATCH
 */
export function checkOrigin(request: Headered, allowed: readonly string[]): void {
  const refused = () => new StepUpError("ORIGIN_MISMATCH", "This request came from another site.");
  if (crossOriginWrite(request, allowed)) throw refused();
  const h = request.headers;
  if (h.get("origin") !== null || h.get("referer") !== null) return;
  const site = h.get("sec-fetch-site");
  if (site === "same-origin") return;
  if (site !== null || h.get("cookie") !== null) throw refused();
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
