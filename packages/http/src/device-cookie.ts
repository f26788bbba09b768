import type { DeviceCookie } from "@stepup/core";
import { type CookieRequest, type CookieSchemeOptions, cookieScheme } from "./internal/cookie-scheme.js";
import type { CookieToSet } from "./internal/cookies.js";

/** The device cookie's value as the engine issues it: `<id>.<token>`, base64url. */
const VALUE = /^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}$/;

/**
 * The device cookie (`stepup_device`): which browser this is, for trusted devices and the
 * `newDevice` trigger. It holds a random id and token only; the store keeps the token's keyed hash
 * in the user's own scope, so the value means nothing for another user and nothing once revoked.
 * Same naming as the session cookie (`__Host-` when Secure), always SameSite=Lax and httpOnly.
 */
export interface DeviceCookieJar {
  /** The cookie's value in a Cookie header (cheap: one scan), or undefined when absent or malformed. */
  read(cookieHeader: string | null | undefined, request?: CookieRequest): string | undefined;
  /** The cookie to set after a verification (`VerifyResult.device`), under the name in use for `url`. */
  create(device: DeviceCookie, url: URL): CookieToSet;
  /** The cookie's id part (a device's id), to mark "this device" in a list; never proof of anything. */
  idOf(value: string | undefined): string | undefined;
}

/** The device cookie beside the session cookie: same scheme, name `<name>_device`, always SameSite=Lax. */
export function createDeviceCookie(scheme: CookieSchemeOptions): DeviceCookieJar {
  const naming = cookieScheme({ ...scheme, name: `${scheme.name}_device`, path: "/", sameSite: "Lax" });
  return {
    read(header, request) {
      const value = naming.valueIn(header, request);
      // The engine parses it strictly; here only garbage is kept from reaching it.
      return value !== undefined && value.length <= 129 && VALUE.test(value) ? value : undefined;
    },
    create(device, url) {
      return naming.toSet(url, device.value, device.maxAgeSeconds);
    },
    idOf(value) {
      return value?.split(".")[0];
    },
  };
}
