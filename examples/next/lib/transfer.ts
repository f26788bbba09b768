import { StepUpError } from "@stepup/core";

/** A transfer's details, as typed values: what the step-up is bound to. */
export interface Transfer {
  amount: number;
  to: string;
}

const AMOUNT = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$/;
const PAYEE = /^[\p{L}\p{N} ._@'-]{1,64}$/u;

/**
 * Reads `{ amount, to }` from a JSON or form body, typed and strict (the same rules as the Express
 * demo): `"100"` and `100` are one amount; `["100"]` is refused (400), never coerced.
 * @throws StepUpError INVALID_INPUT
 */
export async function readTransfer(request: Request): Promise<Transfer> {
  const type = request.headers.get("content-type") ?? "";
  const body: unknown = type.startsWith("application/x-www-form-urlencoded")
    ? Object.fromEntries(new URLSearchParams(await request.text()))
    : await request.json().catch(() => ({}));
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
