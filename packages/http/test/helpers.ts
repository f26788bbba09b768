import { memoryStore, totp } from "@stepup/core";
import { createStepUpHttp, type StepUpHttpOptions } from "../src/create-step-up-http.js";

/** The HTTP layer on a memory store with TOTP, a quiet logger and a test secret. */
export function testHttp(overrides: Partial<StepUpHttpOptions> = {}) {
  return createStepUpHttp({
    store: memoryStore(),
    secret: "s".repeat(32),
    appName: "Acme",
    factors: [totp()],
    logger: { warn() {}, error() {} },
    ...overrides,
  });
}
