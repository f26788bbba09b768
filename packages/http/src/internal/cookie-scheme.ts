import { type CookieAttributes, type CookieToSet, readCookie } from "./cookies.js";

/** Where and how stepup's cookies are set: shared by the step-up, sign-in and device cookies. */
export interface CookieSchemeOptions {
  /** The base name: a Secure cookie is sent as `__Host-<name>` (`__Secure-<name>` with a domain). */
  name: string;
  path: string;
  domain?: string;
  /** `undefined`: Secure except on http://localhost. */
  secure?: boolean;
  sameSite: CookieAttributes["sameSite"];
}

/** What a cookie needs of a request: its URL, read only when the Cookie header cannot decide. */
export interface CookieRequest {
  readonly url: string;
}

/** Where the default makes the cookie not Secure: plain-http development on this machine. */
export function isLocalHttp(url: URL): boolean {
  return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
}

/** One cookie name under stepup's prefix rules: which value a request may use, and how to set it. */
export interface CookieScheme {
  /** The name a Secure cookie is sent under (`__Host-<name>` or `__Secure-<name>`). */
  readonly securedName: string;
  /** The value this request may use, or undefined. */
  valueIn(header: string | null | undefined, request: CookieRequest | undefined): string | undefined;
  /** A cookie to set under the name in use for `url` (Max-Age 0 deletes it). */
  toSet(url: URL, value: string, maxAgeSeconds: number): CookieToSet;
}

/**
 * The prefix rules of a cookie. A Secure cookie carries a prefix the browser enforces (RFC 6265bis
 * 4.1.3): a `__Host-` cookie was set over HTTPS by this very host with Path=/ and no Domain, so a
 * sibling subdomain or a network attacker on plain http cannot plant or shadow it (cookie tossing).
 * The plain name is read only where the cookie is not Secure: `secure: false`, or by default plain
 * http on localhost; without a request, the plain name is refused by default.
 */
export function cookieScheme(options: CookieSchemeOptions): CookieScheme {
  const securedName = `${options.domain || options.path !== "/" ? "__Secure-" : "__Host-"}${options.name}`;
  const secureFor = (url: URL): boolean => options.secure ?? !isLocalHttp(url);
  return {
    securedName,
    valueIn(header, request) {
      // The prefixed cookie first (the production path: the request URL is never built).
      const secured = readCookie(header, securedName);
      if (secured) return secured;
      if (options.secure === true) return undefined;
      const plain = readCookie(header, options.name);
      if (!plain || options.secure === false) return plain;
      if (!request || !URL.canParse(request.url)) return undefined;
      return isLocalHttp(new URL(request.url)) ? plain : undefined;
    },
    toSet(url, value, maxAgeSeconds) {
      const secure = secureFor(url);
      const attributes = {
        path: options.path,
        sameSite: options.sameSite,
        secure,
        maxAgeSeconds,
        ...(options.domain ? { domain: options.domain } : {}),
      };
      return { name: secure ? securedName : options.name, value, attributes };
    },
  };
}
