export { MAX_BODY_BYTES, readBodyBytes } from "./body.js";
export {
  createStepUpHttp,
  type GuardOptions,
  type StepUpHttp,
  type StepUpHttpOptions,
} from "./create-step-up-http.js";
export {
  ENROLL_BY_HEADER,
  type GuardDetails,
  type GuardInput,
  type GuardOutcome,
  type GuardRequest,
  type StepUpInfo,
} from "./guard/guard.js";
export { checkGuardOptions, type TransactionFunctions } from "./guard/guard-options.js";
export {
  type EnrollmentRequiredBody,
  lockedError,
  type StepUpRequiredBody,
} from "./guard/render-guard.js";
export type { RequestContext } from "./http-context.js";
export type { CookieToSet } from "./internal/cookies.js";
export { setCookieHeader } from "./internal/cookies.js";
export { guardHeaders, guardResponses } from "./openapi/guard-responses.js";
export { type OpenApiOptions, openApiDocument } from "./openapi/openapi.js";
export type { OpenApiDocument } from "./openapi/openapi-types.js";
export { problem, wireCode } from "./problem.js";
export type { SignInUrl } from "./sign-in.js";
export type { BeginSignInOptions, SignInCompleted, SignInOutcome } from "./signin/begin-sign-in.js";
export { transactionDigest, transactionInput } from "./transaction-digest.js";
