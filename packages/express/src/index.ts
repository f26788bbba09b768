export { stepUp, type ExpressStepUp, type ExpressStepUpOptions, type RequireStepUpOptions } from "./step-up.js";
export { toFetchRequest, sendResponse } from "./fetch-bridge.js";
