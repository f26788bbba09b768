// Attack: transaction details nested thousands deep. Apps bind a step-up to details taken from the
// request (`transaction: (req) => req.body`); the digest's canonical form and JSON.stringify recurse,
// and 20,000 nested arrays (which JSON.parse accepts) would overflow the stack and end the request
// as a 500. Details that cannot be encoded are invalid input.
import { describe, expect, it } from "vitest";
import { transactionDigest } from "./transaction-digest.js";

const nest = (n: number): unknown => {
  let value: unknown = [];
  for (let i = 1; i < n; i++) value = [value];
  return value;
};

describe("transactionDigest: deeply nested details", () => {
  it("throws INVALID_INPUT, not a RangeError", () => {
    expect(() => transactionDigest({ x: nest(20_000) })).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(transactionDigest({ x: nest(32) })).toMatch(/^[\w-]{43}$/);
  });
});
