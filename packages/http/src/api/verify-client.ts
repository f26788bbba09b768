import type { DeviceCookie, VerifyClient } from "@stepup/core";
import type { HttpContext, RequestContext } from "../http-context.js";
import { setCookieHeader } from "../internal/cookies.js";

/** What a verification knows of the browser: its address, its device cookie and its User-Agent. */
export function verifyClient(http: HttpContext, request: Request, ctx: RequestContext): VerifyClient {
  const userAgent = request.headers.get("user-agent");
  return {
    ...(ctx.ip ? { ip: ctx.ip } : {}),
    device: http.device.read(request.headers.get("cookie"), request),
    ...(userAgent ? { userAgent } : {}),
  };
}

/**
 * The Set-Cookie header of the device cookie a verification issued. Set after every success: the
 * token changes each time (a copy taken before stops counting), and a remembered device carries
 * its trust in it.
 */
export function deviceSetCookie(http: HttpContext, request: Request, device: DeviceCookie): string {
  return setCookieHeader(http.device.create(device, new URL(request.url)));
}
