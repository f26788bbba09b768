import type { FactorPrompt } from "./factors/factor.js";
import type { ResolvedRulePolicy, RulePolicyOptions } from "./policy/policy-options.js";

/** Who the app says is signed in. stepup never authenticates the first factor itself. */
export interface StepUpUser {
  id: string;
  email?: string;
  phone?: string;
  name?: string;
}

/** Assurance levels, weakest first. WebAuthn reaches `phishing-resistant`. */
export type AssuranceLevel = "mfa" | "phishing-resistant";

/** How a verification must relate to the request it unlocks. */
export type MatchMode = "session" | "action" | "transaction";

/** Authsignal's decision vocabulary, returned by a `policy` hook. */
export type PolicyDecision = "ALLOW" | "CHALLENGE" | "BLOCK" | "REVIEW";

/** What a protected `resource:action` requires. */
export interface RuleOptions {
  /** How recent a verification must be, in seconds. @default 300 */
  maxAge?: number;
  /** Minimum level. @default "mfa" */
  level?: AssuranceLevel;
  /** Factor types allowed to satisfy it (e.g. `["totp"]`). @default every configured factor */
  factors?: readonly string[];
  /** `session`: any recent verification counts (sudo mode); `action`: one for this pair. @default "session" */
  match?: MatchMode;
  /**
   * Whether the authenticator must verify the user (PIN, biometric), not only their presence.
   * Applies to WebAuthn. @default "preferred"
   */
  userVerification?: "required" | "preferred";
  /**
   * What the action is, in words that finish "You're about to …" ("open the admin panel"): shown
   * on the challenge page and in the modal instead of "read admin". 1-100 characters of text.
   * Per rule: not allowed in `defaults`. @default "<action> <resource>"
   */
  label?: string;
  /** This rule's policy level, triggers and mode, over the global `policy`. */
  policy?: RulePolicyOptions;
  /**
   * A trusted device ("remember this device") passes without a challenge, unless a trigger fires.
   * Never for stepup's own actions, transaction rules or phishing-resistant rules. @default false
   */
  allowTrustedDevice?: boolean;
}

/** A rule with every field resolved. */
export interface Rule {
  resource: string;
  action: string;
  maxAge: number;
  level: AssuranceLevel;
  factors: readonly string[];
  match: MatchMode;
  userVerification: "required" | "preferred";
  /** What the action is, in words ("open the admin panel"), when the rule gives it. */
  label?: string;
  policy: ResolvedRulePolicy;
  allowTrustedDevice: boolean;
}

/** What one successful verification left in a step-up session. */
export interface Assurance {
  /** When it was verified (ms since the epoch). */
  atMs: number;
  /** Factor type (`totp`). */
  factor: string;
  factorId: string;
  level: AssuranceLevel;
  /** RFC 8176 method references, e.g. `["otp"]`. */
  amr: readonly string[];
  /**
   * Whether the authenticator verified the user (WebAuthn UV), not only their presence. A rule with
   * `userVerification: "required"` counts only assurances where this is true.
   */
  userVerified: boolean;
  resource: string;
  action: string;
  /** Transaction digest, when the challenge was bound to one. */
  txn?: string;
}

/** The server-side record a step-up cookie points to. */
export interface SessionRecord {
  uid: string;
  /**
   * Stable across sid rotations: transaction grants hang off it, so stepping up again before an
   * approved transaction runs does not strand the grant.
   */
  familyId: string;
  createdAtMs: number;
  assurances: Assurance[];
}

/** A pending proof: what must be shown, by whom, and where to go after. */
export interface Challenge {
  id: string;
  uid: string;
  sid: string;
  resource: string;
  action: string;
  maxAge: number;
  level: AssuranceLevel;
  factors: readonly string[];
  /** From the rule: WebAuthn must see the UV flag when "required". */
  userVerification: "required" | "preferred";
  txn?: string;
  /** The rule's `label` ("open the admin panel"), shown on the page and modal. */
  label?: string;
  /** What is being approved, in words (a transaction rule's `describe`), shown on the page and modal. */
  description?: string;
  /** Same-origin path (with query) to return to after success. */
  returnTo?: string;
  /** The original method of the request that was interrupted (a form POST is re-submitted). */
  method?: string;
  /**
   * Original urlencoded form fields, re-submitted after success. At most 16 KiB, and sealed at rest
   * (AES-256-GCM, like factor secrets): forms can hold passwords or card numbers.
   */
  form?: readonly (readonly [string, string])[];
  createdAtMs: number;
  expiresAtMs: number;
}

/** A factor as the user and the API see it (no secrets). */
export interface FactorSummary {
  id: string;
  type: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  primary: boolean;
}

/** A factor as a challenge offers it (to the page, the modal, a JSON client): no dates, no secrets. */
export interface OfferedFactor {
  id: string;
  type: string;
  name: string;
  primary: boolean;
  /** The type in words ("Authenticator app"): the plugin's `ui.title`. */
  title: string;
  /** How it is proved (a code, sent first or not; a WebAuthn ceremony): the plugin's `ui.prompt`. */
  prompt: FactorPrompt;
  /** Where a code goes, masked (`a***@example.com`), for factors that send one. */
  destination?: string;
  /** A recovery path (recovery codes): pages fold it away unless nothing else is usable. */
  recovery?: true;
}

/** A stored factor: the summary plus the plugin's own data (secrets sealed). */
export interface FactorRecord {
  id: string;
  type: string;
  name: string;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  primary: boolean;
  data: Record<string, unknown>;
}

export type { EventMetadata, EventSeverity, StepUpEvent, StepUpEventType } from "./audit/events.js";
