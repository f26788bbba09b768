import { sealData, unsealData } from "iron-session";
import {
  type CookieAttributes,
  type CookieToSet,
  readCookie,
  serializeCookie,
  setCookieHeader,
} from "./internal/cookies.js";

/** What the step-up cookie holds: pointers only, never assurances (those live in the store). */
export interface CookieSession {
  sid: string;
  uid: string;
}

export interface SessionCookieOptions {
  name: string;
  secrets: readonly string[];
  ttlSeconds: number;
  path: string;
  domain?: string;
  /** `undefined`: Secure except on http://localhost. */
  secure?: boolean;
  sameSite: "Lax" | "Strict" | "None";
}

const CACHE_LIMIT = 10_000;

/**
 * Seals and reads the step-up cookie (iron-session). A sealed value is immutable, so a verified
 * value's contents are cached by its exact string until the seal's own expiry: iron's unseal costs
 * ~0.3 ms, more than the store round trip, and the guard runs on every protected request.
 */
export function createSessionCookie(options: SessionCookieOptions) {
  // iron-session seals with the highest password id; the first secret is current.
  const password = Object.fromEntries(options.secrets.map((s, i) => [String(options.secrets.length - i), s]));
  const cache = new Map<string, { value: CookieSession | undefined; expiresAtMs: number }>();

  // iron format: Fe26.2*id*salt*iv*data*expiration*hmacSalt*hmac; expiration in ms (authenticated).
  const expirationOf = (sealed: string) => Number(sealed.split("*")[5]) || 0;

  function remember(sealed: string, value: CookieSession | undefined, nowMs: number): void {
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(sealed, { value, expiresAtMs: value ? expirationOf(sealed) : nowMs + 60_000 });
  }

  function attributes(url: URL, maxAgeSeconds: number): CookieAttributes {
    const local = url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
    return {
      path: options.path,
      sameSite: options.sameSite,
      secure: options.secure ?? !local,
      maxAgeSeconds,
      ...(options.domain ? { domain: options.domain } : {}),
    };
  }

  return {
    /**
     * A cached answer for a Cookie header, without awaiting anything: the session, `null` for a
     * cached "no session", or undefined when only `read` can tell (not cached, or cache expired).
     */
    peek(cookieHeader: string | null | undefined, nowMs: number): CookieSession | null | undefined {
      const sealed = readCookie(cookieHeader, options.name);
      if (!sealed) return null;
      const hit = cache.get(sealed);
      if (!hit || hit.expiresAtMs <= nowMs) return undefined;
      return hit.value ?? null;
    },

    /** The session in a Cookie header, or undefined (absent, tampered, expired, malformed). */
    async read(cookieHeader: string | null | undefined, nowMs: number): Promise<CookieSession | undefined> {
      const sealed = readCookie(cookieHeader, options.name);
      if (!sealed || sealed.length > 4096) return undefined;
      const hit = cache.get(sealed);
      if (hit && hit.expiresAtMs > nowMs) return hit.value;
      let value: CookieSession | undefined;
      if (expirationOf(sealed) <= nowMs) return undefined; // expired by our clock (iron checks its own)
      try {
        const data = await unsealData<Partial<CookieSession>>(sealed, { password, ttl: options.ttlSeconds });
        if (typeof data.sid === "string" && typeof data.uid === "string")
          value = { sid: data.sid, uid: data.uid };
      } catch {
        value = undefined; // tampered or foreign: counts as no session
      }
      remember(sealed, value, nowMs);
      return value;
    },

    /** A new sealed session, as a cookie to set. */
    async create(session: CookieSession, url: URL): Promise<CookieToSet> {
      const sealed = await sealData(session, { password, ttl: options.ttlSeconds });
      return { name: options.name, value: sealed, attributes: attributes(url, options.ttlSeconds) };
    },

    /** A Set-Cookie header carrying a new sealed session. */
    async issue(session: CookieSession, url: URL): Promise<string> {
      return setCookieHeader(await this.create(session, url));
    },

    /** A Set-Cookie header deleting the cookie. */
    clear(url: URL): string {
      return serializeCookie(options.name, "", attributes(url, 0));
    },
  };
}

export type SessionCookie = ReturnType<typeof createSessionCookie>;
