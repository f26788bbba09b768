/** Reads one cookie from a Cookie header without parsing the rest (hot path). */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const prefix = `${name}=`;
  let start = 0;
  while (start < header.length) {
    while (header.charCodeAt(start) === 32) start++;
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    if (header.startsWith(prefix, start)) return header.slice(start + prefix.length, end).trim();
    start = end + 1;
  }
  return undefined;
}

export interface CookieAttributes {
  maxAgeSeconds?: number;
  path: string;
  domain?: string;
  secure: boolean;
  sameSite: "Lax" | "Strict" | "None";
}

/** Serializes a Set-Cookie header (httpOnly always: scripts never need the step-up cookie). */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  let out = `${name}=${value}; Path=${attrs.path}; HttpOnly; SameSite=${attrs.sameSite}`;
  if (attrs.maxAgeSeconds !== undefined) out += `; Max-Age=${attrs.maxAgeSeconds}`;
  if (attrs.domain) out += `; Domain=${attrs.domain}`;
  if (attrs.secure) out += "; Secure";
  return out;
}

/** A cookie to set, as data: the edge (a Response header, Next's `cookies()`) writes it. */
export interface CookieToSet {
  name: string;
  value: string;
  attributes: CookieAttributes;
}

/** The Set-Cookie header of a cookie to set. */
export function setCookieHeader(cookie: CookieToSet): string {
  return serializeCookie(cookie.name, cookie.value, cookie.attributes);
}
