export { createStepUp, type StepUp, type StepUpDecision } from "./step-up.js";
export type { StepUpOptions, ResolvedConfig, LimitOptions, PolicyContext, Logger } from "./config.js";
export { StepUpError, errorStatus, type StepUpErrorCode, type StepUpErrorDetails } from "./errors.js";
export type { Store } from "./store/store.js";
export { memoryStore } from "./store/memory-store.js";
export type { Clock } from "./internal/clock.js";
export { totp, type TotpOptions } from "./factors/totp.js";
export type {
  FactorPlugin,
  FactorContext,
  EnrollmentStart,
  EnrollmentResult,
  VerifyOutcome,
} from "./factors/factor.js";
export type { FreshnessResult } from "./assurance/sessions.js";
export { findAssurance, meetsLevel } from "./assurance/find-assurance.js";
export type { ChallengeTarget, OpenedChallenge, VerifyInput, VerifyResult } from "./challenge/challenges.js";
export { summarize as summarizeFactor } from "./internal/records.js";
export type {
  StepUpUser,
  AssuranceLevel,
  MatchMode,
  PolicyDecision,
  RuleOptions,
  Rule,
  Assurance,
  SessionRecord,
  Challenge,
  FactorSummary,
  FactorRecord,
  StepUpEvent,
  StepUpEventType,
} from "./types.js";
