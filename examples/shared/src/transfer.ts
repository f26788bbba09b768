import { StepUpError } from "@stepup/core";

/** A transfer's details, as typed values: what the step-up is bound to. */
export interface Transfer {
  amount: number;
  to: string;
}

const AMOUNT = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$/;
const PAYEE = /^[\p{L}\p{N} ._@'-]{1,64}$/u;

/**
 * Reads `{ amount, to }` from a parsed JSON or form body. Typed and strict: `"100"` (a form) and `100`
 * (JSON) are the same amount, but `["100"]`, `"1e2"` or `" 100"` are refused (400) rather than
 * coerced, so a step-up approved for one transfer can never be stretched to pay another.
 * @throws StepUpError INVALID_INPUT
 */
export function parseTransfer(body: unknown): Transfer {
  const { amount, to } = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const text = typeof amount === "number" ? String(amount) : amount;
  if (typeof text !== "string" || !AMOUNT.test(text) || Number(text) <= 0) {
    throw new StepUpError("INVALID_INPUT", "`amount` must be a positive amount, like 100 or 12.50.", {
      field: "amount",
    });
  }
  if (typeof to !== "string" || !PAYEE.test(to)) {
    throw new StepUpError(
      "INVALID_INPUT",
      "`to` must be a payee name of 1-64 letters, digits or . _ @ ' -.",
      {
        field: "to",
      },
    );
  }
  return { amount: Number(text), to };
}

/** What the user approves, in words: shown on the challenge page and bound into the digest. */
export const describeTransfer = (t: Transfer) => `Send ${t.amount} to ${t.to}`;
