/** One parsed `Set-Cookie` header, in the shape of Next's `cookies().set(name, value, options)`. */
export interface ParsedCookie {
  name: string;
  value: string;
  options: {
    path?: string;
    domain?: string;
    maxAge?: number;
    expires?: Date;
    httpOnly?: boolean;
    secure?: boolean;
    sameSite?: "lax" | "strict" | "none";
  };
}

/**
 * Parses a `Set-Cookie` header written by @stepup/http, so a Server Action can hand it to Next's
 * `cookies().set()` (an action has no Response of its own to append headers to).
 */
export function parseSetCookie(header: string): ParsedCookie | undefined {
  const [pair = "", ...attributes] = header.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return undefined;
  const cookie: ParsedCookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    options: {},
  };
  const o = cookie.options;
  for (const attribute of attributes) {
    const at = attribute.indexOf("=");
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? "" : attribute.slice(at + 1).trim();
    if (key === "path") o.path = value;
    else if (key === "domain") o.domain = value;
    else if (key === "max-age" && /^-?\d+$/.test(value)) o.maxAge = Number(value);
    else if (key === "expires" && !Number.isNaN(Date.parse(value))) o.expires = new Date(value);
    else if (key === "httponly") o.httpOnly = true;
    else if (key === "secure") o.secure = true;
    else if (key === "samesite") {
      const v = value.toLowerCase();
      if (v === "lax" || v === "strict" || v === "none") o.sameSite = v;
    }
  }
  return cookie;
}
