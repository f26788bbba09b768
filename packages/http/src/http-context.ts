import type { StepUp, StepUpUser } from "@stepup/core";
import type { AdminAccess } from "./admin/admin-routes.js";
import type { DeviceCookieJar } from "./device-cookie.js";
import type { createCsrf } from "./security.js";
import type { SessionCookie } from "./session-cookie.js";
import type { SignInUrl } from "./sign-in.js";
import type { SignInCookie } from "./signin/sign-in-cookie.js";

/** What the HTTP layer knows about the caller, from the adapter. */
export interface RequestContext {
  /** The signed-in user per the app's `getUser`, or null. */
  user: StepUpUser | null;
  /**
   * The client address (per-IP guessing limits, the policy hook, the `newIp` trigger), when the
   * adapter knows it. May be a getter: the guard reads it only for a rule whose policy can use it.
   */
  readonly ip?: string | undefined;
}

/** Resolved HTTP settings plus the engine: shared by the guard, API and pages. */
export interface HttpContext {
  engine: StepUp;
  basePath: string;
  cookie: SessionCookie;
  /** The pending sign-in between the app's password check and the second factor. */
  signInCookie: SignInCookie;
  /** The device cookie (`stepup_device`): trusted devices and the `newDevice` trigger. */
  device: DeviceCookieJar;
  csrf: ReturnType<typeof createCsrf>;
  trustedOrigins: readonly string[];
  log(message: string, meta: Record<string, unknown>): void;
  /** Where signed-out browsers go (`signInUrl`); undefined: a 401 for everyone. */
  signInUrl: SignInUrl | undefined;
  /** Who may use the admin API (`authorizeAdmin`, `findUser`); absent: it is off (404). */
  admin?: AdminAccess;
}
