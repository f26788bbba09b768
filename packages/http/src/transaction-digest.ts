import { createHash } from "node:crypto";
import { describeTransaction, StepUpError } from "@stepup/core";

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
 * The guard input of a transaction rule: the digest of its details, bound to the words the user
 * approves when there are some (checked: 1-200 characters), and the details themselves when they
 * are an object (what `when` triggers and the policy hook read). One place for every adapter.
 * @throws StepUpError INVALID_INPUT for a bad description or details nested too deeply
 */
export function transactionInput(
  details: unknown,
  description?: unknown,
): { txn: string; description?: string; details?: Readonly<Record<string, unknown>> } {
  const text = description === undefined ? undefined : describeTransaction(description);
  const isObject = typeof details === "object" && details !== null && !Array.isArray(details);
  return {
    txn: transactionDigest(details, text),
    ...(text === undefined ? {} : { description: text }),
    ...(isObject ? { details: details as Readonly<Record<string, unknown>> } : {}),
  };
}
