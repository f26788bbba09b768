export {
  type GetStepUpTokenOptions,
  type GetStepUpTokenResult,
  getStepUpToken,
} from "./get-step-up-token.js";
export { type OpenStepUpOptions, openStepUp } from "./open-step-up.js";
export { stepUpFetch } from "./step-up-fetch.js";
export type {
  CodePrompt,
  FactorPrompt,
  OfferedFactor,
  OpenStepUpResult,
  StepUpPayload,
  WebAuthnPrompt,
} from "./types.js";
export { CeremonyError, registerPasskey, supportsPasskeys, verifyWithPasskey } from "./webauthn.js";
