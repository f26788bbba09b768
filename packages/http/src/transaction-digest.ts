import { createHash } from "node:crypto";
import { StepUpError } from "@stepup/core";

const MAX_DESCRIPTION = 200;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * A digest of a transaction for `match: "transaction"` rules: SHA-256 over canonical JSON (sorted
 * keys) of its details and, when given, the words the user approves (`describe`), so a grant made
 * for "Send 100 to alice" pays exactly that. Types count: `{ amount: 100 }`, `{ amount: "100" }`
 * and `{ amount: ["100"] }` are three different transactions.
 *
 * @throws StepUpError INVALID_INPUT when the details cannot be encoded (too deeply nested)
 * @example
 * stepup.requireStepUp({ resource: "payment", action: "transfer", match: "transaction",
 *   transaction: (req) => ({ amount: Number(req.body.amount), to: String(req.body.to) }),
 *   describe: (req) => `Send ${req.body.amount} to ${req.body.to}` })
 */
export function transactionDigest(details: unknown, description?: string): string {
  let text: string;
  try {
    text =
      JSON.stringify(canonical(description === undefined ? details : { details, description })) ?? "null";
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new StepUpError("INVALID_INPUT", "The request's details are nested too deeply.");
  }
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * Checks a transaction's description (what `describe` returned): 1-200 characters of text.
 * @throws StepUpError INVALID_INPUT otherwise (its words usually come from the request)
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
