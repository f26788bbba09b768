export { sendResponse, toFetchRequest } from "./fetch-bridge.js";
export {
  type ExpressStepUp,
  type ExpressStepUpOptions,
  type RequireStepUpOptions,
  stepUp,
} from "./step-up.js";
