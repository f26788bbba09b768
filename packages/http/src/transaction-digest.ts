import { createHash } from "node:crypto";

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
 * A digest of a transaction's details (e.g. `{ amount, to }`) for `match: "transaction"` rules:
 * SHA-256 over canonical JSON (sorted keys), so the same details always give the same digest.
 *
 * @example
 * stepup.requireStepUp({ resource: "payment", action: "transfer", match: "transaction",
 *   transaction: (req) => ({ amount: req.body.amount, to: req.body.to }) })
 */
export function transactionDigest(details: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(details)) ?? "null")
    .digest("base64url");
}
