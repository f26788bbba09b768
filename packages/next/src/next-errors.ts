/**
 * Next's control flow is thrown: `redirect()`, `permanentRedirect()`, `notFound()`, `forbidden()` and
 * `unauthorized()` throw errors whose `digest` names them. A wrapper must let them through untouched,
 * or a redirect becomes a 500 (tRPC's `rethrowNextErrors` does the same).
 */
export function isNextControlError(error: unknown): boolean {
  const digest = (error as { digest?: unknown } | null)?.digest;
  if (typeof digest !== "string") return false;
  return (
    digest.startsWith("NEXT_REDIRECT") ||
    digest.startsWith("NEXT_HTTP_ERROR_FALLBACK") ||
    digest.startsWith("NEXT_NOT_FOUND") ||
    // Thrown while prerendering to mark a route dynamic: never ours to handle either.
    digest === "DYNAMIC_SERVER_USAGE" ||
    digest.startsWith("BAILOUT_TO_CLIENT_SIDE_RENDERING")
  );
}

/** Rethrows Next's control-flow errors; returns anything else to the caller. */
export function rethrowNextErrors(error: unknown): void {
  if (isNextControlError(error)) throw error;
}
