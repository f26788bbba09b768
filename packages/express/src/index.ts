export { sendResponse, toFetchRequest } from "./fetch-bridge.js";
export {
  type ExpressStepUp,
  type ExpressStepUpOptions,
  type RequireStepUpOptions,
  type SignInOptions,
  stepUp,
} from "./step-up.js";
