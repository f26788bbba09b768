export {
  type Admin,
  type AdminActionOptions,
  type AdminFactorSummary,
  type AdminResetOptions,
  type AdminReview,
  type AdminUserStatus,
  readUserId,
} from "./admin/admin.js";
export { findAssurance, meetsLevel } from "./assurance/find-assurance.js";
export type { FreshnessResult } from "./assurance/sessions.js";
export { AUDIT_LENGTH, type AuditChainResult, type AuditEntry } from "./audit/audit-log.js";
export {
  type ChallengeOpenedEvent,
  EVENT_TYPES,
  type EventMetadata,
  type EventSeverity,
  type FactorEvent,
  type PolicyDecisionEvent,
  type SignInCompletedEvent,
  type TokenIssuedEvent,
  type TrackEvent,
  type UserEvent,
  type VerificationFailedEvent,
  type VerificationSucceededEvent,
} from "./audit/events.js";
export type { TrackInput, TrackOptions } from "./audit/track.js";
export type {
  ChallengeTarget,
  OpenedChallenge,
  VerifyClient,
  VerifyInput,
  VerifyResult,
} from "./challenge/challenges.js";
export { MAX_FORM_BYTES, MAX_OPEN_CHALLENGES } from "./challenge/challenges.js";
export { describeTransaction, MAX_DESCRIPTION } from "./challenge/description.js";
export type {
  LimitOptions,
  LockoutOptions,
  Logger,
  PolicyContext,
  ResolvedConfig,
  StepUpOptions,
} from "./config.js";
export { deviceName } from "./devices/device-name.js";
export type { DeviceCookie, DeviceSummary } from "./devices/devices.js";
export {
  errorStatus,
  StepUpError,
  type StepUpErrorCode,
  type StepUpErrorDetails,
  userLocked,
} from "./errors.js";
export type { EnrollmentConfirmed } from "./factors/enrollment.js";
export type {
  CodePrompt,
  CodeSent,
  EnrollField,
  EnrollmentResult,
  EnrollmentStart,
  EnrollPrompt,
  FactorContext,
  FactorPlugin,
  FactorPrompt,
  FactorStore,
  FactorUi,
  VerifyOutcome,
  WebAuthnPrompt,
} from "./factors/factor.js";
export {
  type EmailFactor,
  type EmailMessage,
  type EmailMessages,
  type EmailOptions,
  email,
  type MailTransport,
} from "./factors/one-time-code/email.js";
export type {
  CodeMessageInput,
  CodePurpose,
  EmailContent,
  SecurityNotice,
} from "./factors/one-time-code/messages.js";
export type { SendLimitOptions } from "./factors/one-time-code/send-limits.js";
export { type SmsOptions, sms } from "./factors/one-time-code/sms.js";
export {
  type RecoveryCodesOptions,
  type RecoveryCodesPlugin,
  recoveryCodes,
} from "./factors/recovery-codes.js";
export { type TotpOptions, totp } from "./factors/totp.js";
export { type WebAuthnOptions, webauthn } from "./factors/webauthn.js";
export { clientGroup } from "./internal/client-address.js";
export type { Clock } from "./internal/clock.js";
export { offer as offerFactor, summarize as summarizeFactor } from "./internal/records.js";
export type { NeedsStepUp, OwnAction } from "./policy/own-actions.js";
export type {
  NoFactorAction,
  PolicyOptions,
  PolicyRequirement,
  PolicyTriggers,
  RulePolicyOptions,
  TriggerContext,
} from "./policy/policy-options.js";
export { OWN_RESOURCE, waivable } from "./policy/waivable.js";
export { SIGN_IN, type SignInStart } from "./signin/sign-in.js";
export {
  type ChallengeOffer,
  createStepUp,
  type DecideInput,
  type StepUp,
  type StepUpDecision,
  type WaiveReason,
} from "./step-up.js";
export { memoryStore } from "./store/memory-store.js";
export type { QueueItem, Store } from "./store/store.js";
export {
  generateSigningKey,
  type PublicJwk,
  type SigningKeyInput,
} from "./token/signing-keys.js";
export { type StepUpTokenClaims, TOKEN_TYPE, type TokenOptions } from "./token/tokens.js";
export type {
  Assurance,
  AssuranceLevel,
  Challenge,
  FactorRecord,
  FactorSummary,
  MatchMode,
  OfferedFactor,
  PolicyDecision,
  Rule,
  RuleOptions,
  SessionRecord,
  StepUpEvent,
  StepUpEventType,
  StepUpUser,
} from "./types.js";
export { generateWebhookSecret } from "./webhooks/signature.js";
export type { WebhookEndpoint, WebhookOptions } from "./webhooks/webhook-options.js";
