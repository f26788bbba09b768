/** A factor the server offers for a challenge, as the API lists it (`OfferedFactor` in @stepup/core). */
export interface OfferedFactor {
  id: string;
  /** "totp", "webauthn", "recovery", "email", "sms". */
  type: string;
  name: string;
  primary: boolean;
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
