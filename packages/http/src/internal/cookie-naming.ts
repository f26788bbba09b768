import { readCookie } from "./cookies.js";

/** Where a cookie lives: the attributes its name depends on. */
export interface CookieScope {
  /** The base name: a Secure cookie is sent as `__Host-<name>` (`__Secure-<name>` with a domain or a path). */
  name: string;
  path: string;
  domain?: string | undefined;
  /** `undefined`: Secure except on http://localhost. */
  secure?: boolean | undefined;
}

/** What a cookie needs of a request: its URL, read only when the Cookie header cannot decide. */
export interface CookieRequest {
  readonly url: string;
}

/** Where the default makes a cookie not Secure: plain-http development on this machine. */
export function isLocalHttp(url: URL): boolean {
  return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
}

/**
 * The naming scheme every stepup cookie shares. A Secure cookie carries a prefix the browser
 * enforces (RFC 6265bis 4.1.3): a `__Host-` cookie was set over HTTPS by this very host with
 * Path=/ and no Domain, so a sibling subdomain or a network attacker on plain http cannot plant or
 * shadow it (cookie tossing). The plain name is read only where the cookie is not Secure.
 */
export function cookieNaming(scope: CookieScope) {
  const securedName = `${scope.domain || scope.path !== "/" ? "__Secure-" : "__Host-"}${scope.name}`;
  const secureFor = (url: URL): boolean => scope.secure ?? !isLocalHttp(url);
  return {
    securedName,
    secureFor,
    /** The name a cookie set for `url` carries. */
    nameFor: (url: URL): string => (secureFor(url) ? securedName : scope.name),
    /**
     * The value this request may use. The prefixed cookie first (the production path: the request
     * URL is never built); the plain name only where the cookie is not Secure: `secure: false`, or
     * by default plain http on localhost. Without a request, the plain name is refused by default.
     */
    valueIn(header: string | null | undefined, request: CookieRequest | undefined): string | undefined {
      const secured = readCookie(header, securedName);
      if (secured) return secured;
      if (scope.secure === true) return undefined;
      const plain = readCookie(header, scope.name);
      if (!plain || scope.secure === false) return plain;
      if (!request || !URL.canParse(request.url)) return undefined;
      return isLocalHttp(new URL(request.url)) ? plain : undefined;
    },
  };
}
