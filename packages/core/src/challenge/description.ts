import { StepUpError } from "../errors.js";

/** A transaction's description, in characters. */
export const MAX_DESCRIPTION = 200;

/**
 * Checks what a transaction rule's `describe` returned (its words usually come from the request):
 * 1-200 characters of text, trimmed.
 * @throws StepUpError INVALID_INPUT otherwise
 * @example
 * describeTransaction(" Send 100 to alice ") // "Send 100 to alice"
 */
export function describeTransaction(text: unknown): string {
  if (typeof text !== "string" || text.trim() === "" || text.length > MAX_DESCRIPTION) {
    throw new StepUpError(
      "INVALID_INPUT",
      `What is being approved must be described in 1-${MAX_DESCRIPTION} characters.`,
    );
  }
  return text.trim();
}
