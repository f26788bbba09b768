export { StepUpTokenError, type StepUpTokenErrorCode, tokenErrorStatus } from "./errors.js";
export type { StepUpCheck, StepUpVerifierOptions, VerifyStepUpTokenOptions } from "./options.js";
export { type MemoryReplayCacheOptions, memoryReplayCache, type ReplayCache } from "./replay.js";
export {
  createStepUpVerifier,
  STEP_UP_TOKEN_TYPE,
  type StepUpTokenClaims,
  type StepUpVerifier,
  verifyStepUpToken,
} from "./verify.js";
