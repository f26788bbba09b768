export {
  createStepUpHttp,
  type GuardOptions,
  type StepUpHttp,
  type StepUpHttpOptions,
} from "./create-step-up-http.js";
export type { GuardInput, GuardRequest, GuardResult, StepUpInfo } from "./guard/guard.js";
export type { RequestContext } from "./http-context.js";
export { problem, wireCode } from "./problem.js";
export { transactionDigest } from "./transaction-digest.js";
