/** Data the server-rendered pages need. Every string is untrusted and escaped by `html`. */
import type { OfferedFactor } from "@stepup/core";

export interface PageBase {
  appName: string;
  /** CSP nonce for the page's one <style> element (and <script> elements, if any). */
  nonce: string;
  /** Mount path of stepup, e.g. "/stepup" (no trailing slash). */
  basePath: string;
}

/** A factor as a challenge offers it: the one shape the pages, the API and the modal share. */
export type PageFactor = OfferedFactor;

/** The challenge page, shown inline at the protected URL (401) and at GET {basePath}/challenge/:id. */
export interface ChallengePageData extends PageBase {
  challengeId: string;
  /** What is being unlocked, e.g. resource "account", action "delete". */
  resource: string;
  action: string;
  /** The rule's words for it ("open the admin panel"); without it the page says "<action> <resource>". */
  label?: string;
  /** Enrolled factors this challenge accepts, primary first. May be empty (then: offer enrollment). */
  factors: PageFactor[];
  /** What is being approved, in words (a transaction rule's `describe`), shown above the form. */
  description?: string;
  /** Locked after too many failures: only the recovery path is offered, and the page says why. */
  userLocked?: boolean;
  /** Form posts to `${basePath}/challenge/${challengeId}` with fields csrf, factor, factorId, code. */
  csrfToken: string;
  /** Error from the previous attempt, already worded for users (e.g. "That code is not valid."). */
  error?: string;
  /** Guesses left, when known. */
  attemptsRemaining?: number;
  /**
   * Seconds until the usual methods can be tried again (a 429 with Retry-After): the page says
   * when, and its script counts down with the code form and passkey button disabled until then.
   */
  retryAfter?: number;
  /** Where the console is, for "set up a factor" (already includes a returnTo query). */
  consoleUrl: string;
  /** Where Cancel goes: the same-origin page the user came from (`cancelUrlFor`), or none. */
  cancelUrl?: string;
  /**
   * Where the browser script continues after a passkey verification (the JSON API does not
   * redirect): GET reloads `url`, POST re-submits `fields` to it. Same-origin path.
   */
  after?: { method: "GET" | "POST"; url: string; fields?: readonly (readonly [string, string])[] };
}

/** After a successful step-up for an interrupted form POST: re-submit the original fields. */
export interface ResubmitPageData extends PageBase {
  /** Same-origin path (with query) the original form posted to. */
  action: string;
  fields: readonly (readonly [string, string])[];
}

/** The factor console. Forms post to `${basePath}/console/...` with a csrf field. */
export interface ConsolePageData extends PageBase {
  user: { id: string; email?: string; name?: string };
  csrfToken: string;
  factors: Array<PageFactor & { createdAt: string; lastUsedAt: string | null }>;
  /** A TOTP enrollment in progress (after "Add authenticator app"). */
  pendingTotp?: { factorId: string; secret: string; otpauthUri: string; qrCode: string };
  /** Flash messages. */
  notice?: string;
  error?: string;
  /** Same-origin path to go back to after enrolling (from ?returnTo=). */
  returnTo?: string;
  /** Unused recovery codes; null when recovery codes are not enabled. */
  recoveryCodesRemaining?: number | null;
  /** Codes just issued: shown once, never again. */
  newRecoveryCodes?: readonly string[];
  /** Whether passkeys and security keys (the `webauthn` factor) can be added. @default false */
  passkeys?: boolean;
}

/** A small page for errors and dead ends (expired challenge, not signed in). */
export interface MessagePageData extends PageBase {
  title: string;
  message: string;
  link?: { href: string; label: string };
}
