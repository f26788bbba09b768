import { errorStatus, StepUpError, type StepUpErrorCode } from "@stepup/core";

const TITLES: Partial<Record<StepUpErrorCode, string>> = {
  STEP_UP_REQUIRED: "Step-up authentication required",
  STEP_UP_BLOCKED: "Action blocked",
  ENROLLMENT_REQUIRED: "Enrollment required",
  TOO_MANY_ATTEMPTS: "Too many attempts",
  STORE_UNAVAILABLE: "Service unavailable",
  UNAUTHENTICATED: "Not signed in",
  FORBIDDEN: "Forbidden",
};

/** The stable wire form of a code: `STEP_UP_REQUIRED` -> `step_up_required`. */
export function wireCode(code: StepUpErrorCode): string {
  return code.toLowerCase();
}

/**
 * An RFC 9457 problem+json response with a stable `error` code. Extra members are public data
 * only; `cause` and stack traces never reach the client.
 */
export function problem(
  code: StepUpErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const status = errorStatus[code];
  const body = {
    type: "about:blank",
    title: TITLES[code] ?? detail,
    status,
    error: wireCode(code),
    detail,
    ...extra,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

/** A problem response for a `StepUpError` (Retry-After on 429). */
export function problemFromError(error: StepUpError): Response {
  const headers: Record<string, string> = {};
  if (error.details.retryAfter !== undefined) headers["retry-after"] = String(error.details.retryAfter);
  const extra: Record<string, unknown> = { ...error.details };
  if (error.code === "INVALID_CODE") extra.success = false;
  return problem(error.code, error.message, extra, headers);
}

/** Any thrown value as a response: StepUpErrors map by code; anything else is a logged 500 with no details. */
export function toResponse(
  error: unknown,
  log: (message: string, meta: Record<string, unknown>) => void,
): Response {
  if (error instanceof StepUpError) {
    if (error.code === "STORE_UNAVAILABLE") log("store unavailable", { cause: String(error.cause) });
    return problemFromError(error);
  }
  log("unexpected error", {
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Internal error", status: 500, error: "internal_error" }),
    { status: 500, headers: { "content-type": "application/problem+json", "cache-control": "no-store" } },
  );
}

/** JSON success response, never cached (it may carry secrets such as a TOTP seed). */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
