/** Data the server-rendered pages need. Every string is untrusted and escaped by `html`. */
import type { CodePrompt, EnrollPrompt, OfferedFactor } from "@stepup/core";

export interface PageBase {
  appName: string;
  /** CSP nonce for the page's one <style> element (and <script> elements, if any). */
  nonce: string;
  /** Mount path of stepup, e.g. "/stepup" (no trailing slash). */
  basePath: string;
}

/** A factor as a challenge offers it: the one shape the pages, the API and the modal share. */
export type PageFactor = OfferedFactor;

/** A code already sent for a send-first factor, in the page's terms (seconds from the rendering). */
export interface PageCodeSent {
  /** Where it went, masked (`a***@example.com`). */
  destination: string;
  /** Seconds until the code stops working. */
  expiresIn: number;
  /** Seconds until another send is allowed (0 or less: now). */
  resendIn: number;
}

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
  /** Codes already sent and still valid, by factor id: those factors show their code form. */
  sent?: Readonly<Record<string, PageCodeSent>>;
  /** A polite notice (e.g. "We sent a code to a***@example.com."). */
  notice?: string;
  /**
   * The form the previous post came from: its code input carries `error`, and its group is open.
   * `intent: "send"` (a refused send) marks no input. Without it, the main form's input does.
   */
  active?: { factor: string; factorId?: string; intent?: "send" };
  /**
   * Form posts to `${basePath}/challenge/${challengeId}` with fields csrf, factor, factorId, code
   * (or `intent=send` to send a code first).
   */
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
   * Days a remembered device is trusted (`policy.trustedDevices.days`): each code form and the
   * passkey section get "Remember this device for N days" (posted as `rememberDevice=1`). 0 or
   * absent: no checkbox.
   */
  rememberDays?: number;
  /** The checkbox was ticked on the post that failed: it stays ticked. */
  rememberChecked?: boolean;
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
  user: { id: string; email?: string; phone?: string; name?: string };
  csrfToken: string;
  factors: Array<PageFactor & { createdAt: string; lastUsedAt: string | null; restricted?: string }>;
  /** The factor types the console can add (plugins with `ui.enroll`), in configuration order. */
  methods?: readonly ConsoleMethod[];
  /** An enrollment in progress (after an "Add ..." button): its setup step and confirm form. */
  pending?: PendingEnrollment;
  /** Flash messages. */
  notice?: string;
  error?: string;
  /** Same-origin path to go back to after enrolling (from ?returnTo=). */
  returnTo?: string;
  /** Unused recovery codes; null when recovery codes are not enabled. */
  recoveryCodesRemaining?: number | null;
  /** Codes just issued: shown once, never again. */
  newRecoveryCodes?: readonly string[];
  /** Trusted devices ("Remember this device"); absent when trusted devices are off. */
  devices?: readonly ConsoleDevice[];
  /** Recent security activity (newest first), already in words; absent: no section. */
  activity?: readonly ConsoleActivity[];
}

/** One line of the console's recent security activity. */
export interface ConsoleActivity {
  /** What happened, in plain words ("Recovery code used"). */
  text: string;
  /** ISO 8601. */
  at: string;
  /** The client address the app reported, when known (shown as given: escaped, never trusted). */
  ip?: string;
}

/** A trusted device as the console lists it. */
export interface ConsoleDevice {
  id: string;
  /** Browser and system ("Chrome on macOS"). */
  name: string;
  createdAt: string;
  lastUsedAt: string;
  trustedUntil: string;
  /** The browser showing the page. */
  current?: boolean;
}

/** A factor type the console can add: the plugin's declaration. */
export interface ConsoleMethod {
  type: string;
  /** `ui.title`. */
  title: string;
  enroll: EnrollPrompt;
  /** `ui.prompt` when it is a code: the confirm step's field. */
  prompt?: CodePrompt;
}

/**
 * An enrollment in progress: the started (or resumed) enrollment's client view, read for what it
 * has. TOTP answers a QR code, its secret and otpauth URI; a sent code answers its destination.
 */
export interface PendingEnrollment {
  type: string;
  factorId: string;
  qrCode?: string;
  secret?: string;
  otpauthUri?: string;
  destination?: string;
  /** ISO time the sent code stops working. */
  expiresAt?: string;
}

/** A small page for errors and dead ends (expired challenge, not signed in). */
export interface MessagePageData extends PageBase {
  title: string;
  message: string;
  link?: { href: string; label: string };
}
