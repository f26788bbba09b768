import { parseTransfer, type Transfer } from "@stepup/example-shared";

export { describeTransfer } from "@stepup/example-shared";

/**
 * Reads `{ amount, to }` from a JSON or form request, typed and strict (the demos' one rule, in
 * @stepup/example-shared): `"100"` and `100` are one amount; `["100"]` is refused (400), never coerced.
 * @throws StepUpError INVALID_INPUT
 */
export async function readTransfer(request: Request): Promise<Transfer> {
  const type = request.headers.get("content-type") ?? "";
  const body: unknown = type.startsWith("application/x-www-form-urlencoded")
    ? Object.fromEntries(new URLSearchParams(await request.text()))
    : await request.json().catch(() => ({}));
  return parseTransfer(body);
}
