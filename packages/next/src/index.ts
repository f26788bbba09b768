export type {
  GuardActionError,
  GuardActionFailure,
  GuardActionResult,
  StepUpRequired,
  StepUpRequiredFactor,
} from "./action-result.js";
export {
  createStepUp,
  type GuardActionOptions,
  type NextStepUp,
  type NextStepUpOptions,
  type RouteHandler,
  type SteppedUpHandler,
  type WithStepUpOptions,
} from "./create-step-up.js";
export type { ActionRequestApi } from "./guard-action.js";
export { isNextControlError, rethrowNextErrors } from "./next-errors.js";
export type { SignInActionResult, SignInCompletion, SignInOptions } from "./sign-in.js";
