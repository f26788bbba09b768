// Threat (a dual-package hazard): a bundler loads two copies of @stepup/core (Next bundles one into
// the app while an adapter loads another); an error thrown by one copy must still be recognised by
// the other, or an app's 400 (bad transaction details) becomes a 500.
import { describe, expect, it } from "vitest";
import { StepUpError } from "./errors.js";

describe("StepUpError", () => {
  it("instanceof holds for an error from another copy of the class", () => {
    // A second copy: same source, another module instance (what a bundler produces).
    const brand = Symbol.for("@stepup/core:StepUpError");
    class OtherCopy extends Error {
      readonly code = "INVALID_INPUT";
      readonly [brand] = true;
    }
    expect(new OtherCopy("x") instanceof StepUpError).toBe(true);
    expect(new Error("x") instanceof StepUpError).toBe(false);
    expect({ code: "INVALID_INPUT" } instanceof StepUpError).toBe(false);
    expect((null as unknown) instanceof StepUpError).toBe(false);
    const own = new StepUpError("INVALID_CODE", "no");
    expect(own instanceof StepUpError).toBe(true);
    expect(own instanceof Error).toBe(true);
    expect(own.status).toBe(400);
  });
});
