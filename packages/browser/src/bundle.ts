// Entry of `dist/stepup.js`, the file @stepup/http serves at `{basePath}/assets/stepup.js`: enhances
// the stepup pages and exposes the client to apps that load the script (`window.stepup`).
import { getStepUpToken } from "./get-step-up-token.js";
import { openStepUp } from "./open-step-up.js";
import { enhancePage } from "./page.js";
import { stepUpFetch } from "./step-up-fetch.js";

declare global {
  interface Window {
    stepup?: {
      openStepUp: typeof openStepUp;
      stepUpFetch: typeof stepUpFetch;
      getStepUpToken: typeof getStepUpToken;
    };
  }
}

window.stepup = Object.freeze({ openStepUp, stepUpFetch, getStepUpToken });
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhancePage);
else enhancePage();
