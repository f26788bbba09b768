/**
 * How a factor is proved, as the server declares it (`FactorPrompt` in @stepup/core): a typed code
 * (sent first or not) or a WebAuthn ceremony. The modal renders any factor from this alone.
 */
export type FactorPrompt = CodePrompt | WebAuthnPrompt;

/** A code the user types (`CodePrompt` in @stepup/core). Every text is plain: shown as text, never markup. */
export interface CodePrompt {
  kind: "code";
  /** The field's label ("Verification code"). */
  label: string;
  /** One line under the field; `{appName}` and `{destination}` are filled in where it is shown. */
  hint?: string;
  /** A numeric code of this many digits (keypad, one-time-code autofill); absent: letters and digits. */
  digits?: number;
  /** Longest input accepted, for a code of letters and digits. */
  maxLength?: number;
  placeholder?: string;
  /** The code is sent first (email, SMS): "Send code", then the code form, with resend. */
  send?: boolean;
  /** The submit button's text. @default "Verify" */
  submit?: string;
}

/** A WebAuthn ceremony (passkey or security key). */
export interface WebAuthnPrompt {
  kind: "webauthn";
}

/** A factor the server offers for a challenge, as the API lists it (`OfferedFactor` in @stepup/core). */
export interface OfferedFactor {
  id: string;
  /** The plugin's type name ("totp", "webauthn", "recovery", "email", "sms", or an app's own). */
  type: string;
  name: string;
  primary: boolean;
  /** The type in words ("Authenticator app"). */
  title: string;
  /** How it is proved. */
  prompt: FactorPrompt;
  /** Where a code goes, masked (`a***@example.com`), for factors that send one. */
  destination?: string;
  /** A recovery path (recovery codes): folded away unless nothing else is usable. */
  recovery?: true;
}

/** One entry of `OpenStepUpResult.payload` (the shape a hosted step-up modal resolves with). */
export interface StepUpPayload {
  success: boolean;
  /** The rotated step-up session id on success; null otherwise. */
  sid: string | null;
  /** ISO time of the verification on success; null otherwise. */
  timestamp: string | null;
  action: string;
  /** null on success; else a code: "cancelled", "unauthenticated", "challenge_not_found", ... */
  error: string | null;
}

/** What `openStepUp` resolves with. */
export interface OpenStepUpResult {
  success: boolean;
  payload: [StepUpPayload];
}
