import type { EmittedEvent } from "../audit/events.js";
import type { Logger } from "../config.js";
import type { Keyring } from "../internal/crypto.js";
import type { AssuranceLevel, Challenge, FactorRecord, StepUpUser } from "../types.js";

/**
 * A factor plugin's own corner of the store: every key is prefixed with the plugin's type, so a
 * plugin never touches the engine's keys or another plugin's. Same atomicity and TTL rules as
 * `Store` (TTLs in whole seconds, `null` = durable).
 */
export interface FactorStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number | null): Promise<void>;
  setIfAbsent(key: string, value: string, ttlSeconds: number | null): Promise<boolean>;
  take(key: string): Promise<string | null>;
  /** Deletes a key only while it holds `expected` (releases a claim, never the next holder's; see `Store.deleteIfEquals`). */
  deleteIfEquals(key: string, expected: string): Promise<boolean>;
  /** Counts in a fixed window: the first increment sets the TTL (see `Store.increment`). */
  increment(key: string, ttlSeconds: number): Promise<{ count: number; ttlSeconds: number }>;
  advance(key: string, value: number, ttlSeconds: number): Promise<boolean>;
  delete(keys: readonly string[]): Promise<void>;
  hashSet(key: string, field: string, value: string): Promise<void>;
  hashGetAll(key: string): Promise<Record<string, string>>;
  hashDelete(key: string, field: string): Promise<boolean>;
}

/** What the engine hands a factor plugin: its tools, never the engine itself. */
export interface FactorContext {
  user: StepUpUser;
  /** The client's address, when the HTTP layer knows it (send limits per address). */
  ip?: string;
  /** The application name shown in authenticator apps and messages. */
  appName: string;
  /** The plugin's keys in the signed-in user's scope. */
  store: FactorStore;
  /** The plugin's keys shared by every user (e.g. an index of WebAuthn credential ids). */
  shared: FactorStore;
  keyring: Keyring;
  nowMs: number;
  randomBytes(length: number): Uint8Array;
  /** The user's enrolled factors (e.g. to exclude known WebAuthn credentials). */
  listFactors(): Promise<FactorRecord[]>;
  /** Server-side log for library errors (never sent to clients). */
  logger: Logger;
  /** Emits an audit event for this user (e.g. a WebAuthn counter regression). */
  emit(event: Omit<EmittedEvent, "userId">): Promise<void>;
}

/** The result of starting an enrollment: `pending` is kept server-side, `response` goes to the client. */
export interface EnrollmentStart {
  pending: Record<string, unknown>;
  response: Record<string, unknown>;
  /** Default display name for the factor. */
  name: string;
}

/** The data to keep once an enrollment is confirmed. */
export interface EnrollmentResult {
  data: Record<string, unknown>;
  name?: string;
}

/** The outcome of a verification attempt: a value, because a wrong code is not an exception. */
export type VerifyOutcome =
  | {
      ok: true;
      /** The factor record's new `data` (e.g. a WebAuthn signature counter). */
      data?: Record<string, unknown>;
      /** Whether the authenticator verified the user (WebAuthn UV flag), not only their presence. */
      userVerified?: boolean;
    }
  | { ok: false; reason: "INVALID_CODE" | "REPLAYED" };

/**
 * How a factor is proved, as the challenge page, the console and the modal render it: a typed
 * code (TOTP, email, SMS, recovery) or a WebAuthn ceremony. Every text is plain (escaped where it is
 * shown); `{appName}` and `{destination}` in `hint` are filled in by the page.
 */
export type FactorPrompt = CodePrompt | WebAuthnPrompt;

/** A code the user types. */
export interface CodePrompt {
  kind: "code";
  /** The field's label ("Code from your authenticator app"). */
  label: string;
  /** One line under the field ("Open your authenticator app and enter the current code for {appName}."). */
  hint?: string;
  /** A numeric code of this many digits (keypad, one-time-code autofill); absent: letters and digits. */
  digits?: number;
  /** Longest input accepted, for a code of letters and digits. @default digits */
  maxLength?: number;
  placeholder?: string;
  /**
   * The code is sent first (email, SMS): pages show "Send code", then the code form, with resend.
   * The sending is the plugin's `challengeStart`, answering `CodeSent`.
   */
  send?: boolean;
  /** The submit button's text. @default "Verify" */
  submit?: string;
}

/** A WebAuthn ceremony (passkey or security key): needs the page script or the modal. */
export interface WebAuthnPrompt {
  kind: "webauthn";
}

/** A field the console asks for before starting an enrollment (an email address, a phone number). */
export interface EnrollField {
  name: string;
  label: string;
  type: "email" | "tel" | "text";
  autocomplete?: string;
  /** @default false */
  required?: boolean;
  hint?: string;
  placeholder?: string;
  /** A default value from the signed-in user (`email` or `phone`). */
  fromUser?: "email" | "phone";
}

/** How the console adds a factor of this type. */
export interface EnrollPrompt {
  /** The add button ("Add authenticator app"). */
  button: string;
  /** The heading of the setup step ("Set up your authenticator app"). */
  title: string;
  /** Fields asked before starting (none for TOTP). */
  fields?: readonly EnrollField[];
  /**
   * A WebAuthn registration (JavaScript only) rather than a confirm-by-code form. The confirming
   * code (otherwise) is asked with `prompt`'s field, labelled `confirmLabel`.
   */
  ceremony?: "webauthn";
  /** The confirm step's field label ("Code from the app"). @default the prompt's label */
  confirmLabel?: string;
}

/** What pages and clients show of a factor type. */
export interface FactorUi {
  /** The type in words ("Authenticator app", "Text message (SMS)"). */
  title: string;
  prompt: FactorPrompt;
  /** How the console adds one; absent when the console cannot (recovery codes come with the first factor). */
  enroll?: EnrollPrompt;
  /**
   * A restricted authenticator (NIST SP 800-63B rev 4, e.g. SMS): the console says so with this
   * text, and a rule can refuse it through `factors`.
   */
  restricted?: string;
}

/** What a send-first factor's `challengeStart` answers (and `challengeStatus` reports). */
export interface CodeSent {
  sent: true;
  /** Where it went, masked (`a***@example.com`, `+1*******67`). */
  destination: string;
  /** When the code stops working (ms since the epoch). */
  expiresAtMs: number;
  /** When another send is allowed (ms since the epoch). */
  resendAfterMs: number;
}

/**
 * A second factor. TOTP implements it; WebAuthn, email, SMS and recovery codes plug in the same way
 * without changes to the engine.
 */
export interface FactorPlugin {
  /** Stable type name, used in API paths and rules (`totp`). */
  readonly type: string;
  /** Level a verification with this factor reaches. */
  readonly level: AssuranceLevel;
  /** RFC 8176 authentication method references. */
  readonly amr: readonly string[];
  /** How pages and clients present and prove it: nothing in a page is specific to a type. */
  readonly ui: FactorUi;
  /** What a challenge may show of one enrolled factor, e.g. its masked destination. */
  describe?(factor: FactorRecord): { destination?: string };
  /**
   * Whether a verification can also verify the user (a PIN or biometric on the authenticator).
   * Only such factors are offered for rules with `userVerification: "required"`. @default false
   */
  readonly verifiesUser?: boolean;
  /**
   * A recovery path (recovery codes): still usable while the user is locked out or throttled after
   * too many failures, and a success ends the lock. @default false
   */
  readonly recovery?: boolean;
  /** Validates and starts an enrollment. Throws `StepUpError("INVALID_INPUT")` for bad input. */
  enrollStart(ctx: FactorContext, factorId: string, input: unknown): Promise<EnrollmentStart>;
  /** Confirms a pending enrollment (e.g. the first code); `null` when the proof is wrong. */
  enrollConfirm(
    ctx: FactorContext,
    factorId: string,
    pending: Record<string, unknown>,
    input: unknown,
  ): Promise<EnrollmentResult | null>;
  /** Re-creates the client's view of a pending enrollment (after a mistyped first code). */
  enrollResume?(
    ctx: FactorContext,
    factorId: string,
    pending: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  /** Optional work when the user picks this factor on a challenge (send a code, WebAuthn options). */
  challengeStart?(
    ctx: FactorContext,
    factor: FactorRecord,
    challenge: Challenge,
  ): Promise<Record<string, unknown>>;
  /** A send-first factor: whether a code was sent for this challenge and is still valid. */
  challengeStatus?(ctx: FactorContext, factor: FactorRecord, challenge: Challenge): Promise<CodeSent | null>;
  /** Rejects malformed input (`StepUpError("INVALID_INPUT")`) before it is counted as a guess. */
  checkInput?(input: unknown): void;
  /** Cleans up the plugin's own keys when a factor of this type is removed. */
  removed?(ctx: FactorContext, factor: FactorRecord): Promise<void>;
  /** Checks a proof for a challenge. Must itself make a proof single use (e.g. TOTP time steps). */
  verify(
    ctx: FactorContext,
    factor: FactorRecord,
    challenge: Challenge,
    input: unknown,
  ): Promise<VerifyOutcome>;
}
