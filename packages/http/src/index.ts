export { MAX_BODY_BYTES, readBodyBytes } from "./body.js";
export {
  createStepUpHttp,
  type GuardOptions,
  type StepUpHttp,
  type StepUpHttpOptions,
} from "./create-step-up-http.js";
export type { GuardInput, GuardOutcome, GuardRequest, StepUpInfo } from "./guard/guard.js";
export { checkGuardOptions, type TransactionFunctions } from "./guard/guard-options.js";
export { lockedError, type StepUpRequiredBody } from "./guard/render-guard.js";
export type { RequestContext } from "./http-context.js";
export type { CookieToSet } from "./internal/cookies.js";
export { setCookieHeader } from "./internal/cookies.js";
export { guardResponses } from "./openapi/guard-responses.js";
export { type OpenApiOptions, openApiDocument } from "./openapi/openapi.js";
export type { OpenApiDocument } from "./openapi/openapi-types.js";
export { problem, wireCode } from "./problem.js";
export type { SignInUrl } from "./sign-in.js";
export type { BeginSignInOptions, SignInCompleted, SignInOutcome } from "./signin/begin-sign-in.js";
export { transactionDigest, transactionInput } from "./transaction-digest.js";
