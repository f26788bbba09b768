import { sealData, unsealData } from "iron-session";
import { type CookieRequest, cookieScheme } from "./internal/cookie-scheme.js";
import { type CookieToSet, setCookieHeader } from "./internal/cookies.js";

export type { CookieRequest } from "./internal/cookie-scheme.js";

/** What the step-up cookie holds: pointers only, never assurances (those live in the store). */
export interface CookieSession {
  sid: string;
  uid: string;
}

export interface SessionCookieOptions {
  /** The base name: a Secure cookie is sent as `__Host-<name>` (`__Secure-<name>` with a domain). */
  name: string;
  secrets: readonly string[];
  ttlSeconds: number;
  path: string;
  domain?: string;
  /** `undefined`: Secure except on http://localhost. */
  secure?: boolean;
  sameSite: "Lax" | "Strict" | "None";
}

/** The step-up cookie: seal, read (per request, through a cache) and delete. */
export interface SessionCookie {
  /**
   * A cached answer for a Cookie header, without awaiting anything: the session, `null` when the
   * header has no step-up cookie this request may use, or undefined when only `read` can tell (not
   * cached, cache expired, or a cookie that failed before: failures are not cached).
   */
  peek(
    cookieHeader: string | null | undefined,
    nowMs: number,
    request?: CookieRequest,
  ): CookieSession | null | undefined;
  /** The session in a Cookie header, or undefined (absent, tampered, expired, malformed). */
  read(
    cookieHeader: string | null | undefined,
    nowMs: number,
    request?: CookieRequest,
  ): Promise<CookieSession | undefined>;
  /** A new sealed session as a cookie to set, under the name in use for `url`. */
  create(session: CookieSession, url: URL): Promise<CookieToSet>;
  /** A Set-Cookie header carrying a new sealed session, under the name in use for `url`. */
  issue(session: CookieSession, url: URL): Promise<string>;
  /** A Set-Cookie header deleting the cookie of the name in use for `url`. */
  clear(url: URL): string;
  /** Seals the unseal cache holds now (its bound's tests read it). */
  cacheSize(): number;
}

/** Entries of the unseal cache: each holds a copy of one seal (~300 bytes) and its contents. */
export const UNSEAL_CACHE_LIMIT = 10_000;
/** Oldest unseal-cache entries looked at on each insert, to drop those whose seal has expired. */
const EXPIRED_SWEEP = 2;
/** The seal's last characters the cache is keyed by (they hold its 43-character HMAC). */
const CACHE_KEY_CHARS = 48;

/**
 * The shape iron-session 8 (iron-webcrypto 1) gives every seal we issue:
 * `Fe26.2*id*salt*iv*data*expiration*hmacSalt*hmac~2` (hex salts, base64url iv/data/hmac, expiration
 * in ms). Checked before unsealing so garbage costs a regex, not a key derivation and an HMAC.
 */
export const SEAL_SHAPE =
  /^Fe26\.2\*(\w{1,8})\*[0-9a-f]{64}\*[\w-]{22}\*[\w-]+\*(\d{1,16})\*[0-9a-f]{64}\*[\w-]{43}~2$/;

/**
 * A flat copy of a string. `readCookie` returns a slice of the Cookie header, and a V8 slice keeps
 * its whole parent alive: a cache key must not pin a ~16 KiB header for each ~300-byte seal.
 */
function flatCopy(s: string): string {
  return Buffer.from(s, "latin1").toString("latin1");
}

/**
 * Seals and reads the step-up cookie (iron-session). A sealed value is immutable, so a verified
 * value's contents are cached by its exact string until the seal's own expiry: iron's unseal costs
 * ~0.3 ms, more than the store round trip, and the guard runs on every protected request. Only
 * successes are cached: forged cookies cost their sender an unseal each and cannot evict good entries.
 */
export function createSessionCookie(options: SessionCookieOptions): SessionCookie {
  // iron-session seals with the highest password id; the first secret is current.
  const password = Object.fromEntries(options.secrets.map((s, i) => [String(options.secrets.length - i), s]));
  // Kept by the seal's last characters (its HMAC: a short key to hash on every request), holding
  // the whole seal, which a hit must equal exactly.
  const cache = new Map<string, { sealed: string; value: CookieSession; expiresAtMs: number }>();
  const cached = (sealed: string, nowMs: number): CookieSession | undefined => {
    const hit = cache.get(sealed.slice(-CACHE_KEY_CHARS));
    return hit !== undefined && hit.sealed === sealed && hit.expiresAtMs > nowMs ? hit.value : undefined;
  };

  function remember(sealed: string, value: CookieSession, expiresAtMs: number, nowMs: number): void {
    // Expired seals leave as new ones come, not only by the size cap (a busy process would hold
    // a full cache of dead seals): seals are mostly first seen in the order they were issued, with
    // one lifetime, so the oldest entries are the first to expire. A few are looked at per insert.
    for (let i = 0; i < EXPIRED_SWEEP; i++) {
      const first = cache.entries().next().value;
      if (first === undefined || first[1].expiresAtMs > nowMs) break;
      cache.delete(first[0]);
    }
    if (cache.size >= UNSEAL_CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(flatCopy(sealed.slice(-CACHE_KEY_CHARS)), { sealed: flatCopy(sealed), value, expiresAtMs });
  }

  // `__Host-`/`__Secure-` prefixes and where the plain name is read: see `cookieScheme`.
  const scheme = cookieScheme(options);
  const sealedIn = scheme.valueIn;
  const cookieToSet = scheme.toSet;

  async function create(session: CookieSession, url: URL): Promise<CookieToSet> {
    const sealed = await sealData(session, { password, ttl: options.ttlSeconds });
    return cookieToSet(url, sealed, options.ttlSeconds);
  }

  return {
    peek(cookieHeader, nowMs, request) {
      const sealed = sealedIn(cookieHeader, request);
      if (!sealed) return null;
      return cached(sealed, nowMs);
    },

    async read(cookieHeader, nowMs, request) {
      const sealed = sealedIn(cookieHeader, request);
      if (!sealed || sealed.length > 4096) return undefined;
      const hit = cached(sealed, nowMs);
      if (hit) return hit;
      const shape = SEAL_SHAPE.exec(sealed);
      if (!shape || !Object.hasOwn(password, shape[1] ?? "")) return undefined; // not one of our seals
      const expiresAtMs = Number(shape[2]);
      if (expiresAtMs <= nowMs) return undefined; // expired by our clock (iron checks its own)
      let data: Partial<CookieSession>;
      try {
        data = await unsealData<Partial<CookieSession>>(sealed, { password, ttl: options.ttlSeconds });
      } catch {
        return undefined; // tampered or foreign: counts as no session
      }
      if (typeof data.sid !== "string" || typeof data.uid !== "string") return undefined;
      const value = { sid: data.sid, uid: data.uid };
      remember(sealed, value, expiresAtMs, nowMs);
      return value;
    },

    create,

    async issue(session, url) {
      return setCookieHeader(await create(session, url));
    },

    clear(url) {
      return setCookieHeader(cookieToSet(url, "", 0));
    },

    cacheSize: () => cache.size,
  };
}
