/**
 * The functions a guard may bind a transaction with, and give its request's details with (each
 * adapter gives its own request type).
 */
export interface TransactionFunctions {
  transaction?: unknown;
  describe?: unknown;
  /** The request's details for `when` triggers and the policy hook, without binding a transaction. */
  details?: unknown;
}

/**
 * Checks what any adapter's guard is given, at start-up, naming the fix: `resource` and `action`
 * strings, a `transaction` function, a `describe` function only beside one, and a `details`
 * function. Adapters that
 * build their guard lazily (Next) call it when the route is defined.
 * @throws TypeError
 */
export function checkGuardOptions(
  where: string,
  opts: { resource?: unknown; action?: unknown } | null | undefined,
  fns: TransactionFunctions = {},
): void {
  if (typeof opts?.resource !== "string" || typeof opts.action !== "string") {
    throw new TypeError(
      `stepup: ${where} needs \`resource\` and \`action\` strings, e.g. ${where}({ resource: "account", action: "delete" })`,
    );
  }
  if (fns.transaction !== undefined && typeof fns.transaction !== "function")
    throw new TypeError("stepup: option `transaction` must be a function");
  if (fns.describe !== undefined && (typeof fns.describe !== "function" || fns.transaction === undefined))
    throw new TypeError("stepup: option `describe` must be a function, given with `transaction`");
  if (fns.details !== undefined && typeof fns.details !== "function")
    throw new TypeError("stepup: option `details` must be a function returning an object");
}
