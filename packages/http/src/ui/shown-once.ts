import { hkdfSync } from "node:crypto";
import { sealData, unsealData } from "iron-session";
import type { HttpContext } from "../http-context.js";
import { readCookie, serializeCookie } from "../internal/cookies.js";

/** What the console shows once, after the POST that issued new recovery codes. */
export interface ShownOnce {
  codes: readonly string[];
  notice: string;
}

const NAME = "stepup_codes";
/** Long enough for the redirect (and a slow step-up re-submission), short enough to be moot. */
const TTL_SECONDS = 300;
const MAX_CODES = 50;

// A key of its own (HKDF of each secret, like the CSRF key): this seal can never be read as, or
// stand in for, the step-up cookie. The highest id is current, as iron-session expects.
const keyCache = new WeakMap<readonly string[], Record<string, string>>();
function passwords(secrets: readonly string[]): Record<string, string> {
  let map = keyCache.get(secrets);
  if (!map) {
    map = Object.fromEntries(
      secrets.map((s, i) => [
        String(secrets.length - i),
        Buffer.from(hkdfSync("sha256", s, "stepup/v1", "console-codes", 32)).toString("hex"),
      ]),
    );
    keyCache.set(secrets, map);
  }
  return map;
}

/**
 * Only the console reads it (Path), only this site sends it (SameSite=Strict: the redirect after
 * the console's own POST is same-site), scripts never see it (HttpOnly), Secure on https.
 */
function cookie(http: HttpContext, url: URL, value: string, maxAgeSeconds: number): string {
  return serializeCookie(NAME, value, {
    path: `${http.basePath}/console`,
    sameSite: "Strict",
    secure: url.protocol === "https:",
    maxAgeSeconds,
  });
}

/**
 * Keeps new recovery codes for one read across the console's post-redirect-get: sealed (AES-256
 * and HMAC under a key derived from the stepup secret) and bound to the user, in a 5-minute
 * cookie that the next GET of the console reads and deletes. Nothing is kept server-side, so
 * the codes exist in clear only in the two responses that carry them to this user.
 *
 * @example
 * headers.append("set-cookie", await keepForOneRead(http, user.id, url, { codes, notice }));
 */
export async function keepForOneRead(
  http: HttpContext,
  uid: string,
  url: URL,
  shown: ShownOnce,
): Promise<string> {
  const data = { uid, codes: [...shown.codes], notice: shown.notice };
  const sealed = await sealData(data, { password: passwords(http.engine.config.secrets), ttl: TTL_SECONDS });
  return cookie(http, url, sealed, TTL_SECONDS);
}

/**
 * Reads what `keepForOneRead` kept for `uid`, and the Set-Cookie header that deletes it (sent
 * whenever the cookie was there: read, tampered, expired or another user's, it is read once).
 */
export async function readOnce(
  http: HttpContext,
  request: Request,
  uid: string,
): Promise<{ shown?: ShownOnce; clear?: string }> {
  const sealed = readCookie(request.headers.get("cookie"), NAME);
  if (!sealed) return {};
  const clear = cookie(http, new URL(request.url), "", 0);
  if (sealed.length > 4096) return { clear };
  let data: Record<string, unknown>;
  try {
    data = await unsealData(sealed, { password: passwords(http.engine.config.secrets), ttl: TTL_SECONDS });
  } catch {
    return { clear };
  }
  const { codes, notice } = data;
  if (
    data.uid !== uid ||
    !Array.isArray(codes) ||
    codes.length > MAX_CODES ||
    !codes.every((c) => typeof c === "string" && c.length <= 64) ||
    typeof notice !== "string"
  ) {
    return { clear };
  }
  return { shown: { codes: codes as string[], notice }, clear };
}
