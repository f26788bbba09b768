/** A JSON call to the stepup API: same-origin cookies, JSON in and out, never throws on HTTP errors. */
export interface ApiResult {
  ok: boolean;
  status: number;
  /** The parsed JSON body (`{}` when there is none or it is not JSON). */
  body: Record<string, unknown>;
  response: Response;
}

/** Path segments of letters, digits and `_ . ~ -`, with at most one trailing slash: `/stepup`, `/app/stepup/`. */
const SAME_ORIGIN_PATH = /^(?:\/[\w.~-]+)+\/?$/;

/**
 * Checks that a mount path is an absolute path on this origin. A base path is joined into the
 * URL every code, passkey assertion and credentialed call goes to: `//evil.example` and
 * `/\evil.example` (browsers read `\` as `/`) are other hosts, and `https://...`/`javascript:` are
 * not paths at all. Only plain segments are allowed, as the server allows for its own `basePath`.
 *
 * @throws TypeError when `basePath` is anything else.
 * @example
 * checkBasePath("/stepup"); // "/stepup"
 */
export function checkBasePath(basePath: unknown): string {
  if (typeof basePath !== "string" || !SAME_ORIGIN_PATH.test(basePath))
    throw new TypeError("stepup: `basePath` must be an absolute path on this origin, like /stepup");
  return basePath;
}

/**
 * Joins a mount path and a sub-path: `apiUrl("/stepup", "api/challenges")` -> `/stepup/api/challenges`.
 * @throws TypeError when `basePath` is not a same-origin absolute path (see `checkBasePath`).
 */
export function apiUrl(basePath: string, path: string): string {
  return `${checkBasePath(basePath).replace(/\/+$/, "")}/${path}`;
}

/** POSTs (or GETs) JSON under `basePath`; problem+json errors come back as `{ ok: false, body }`. */
export async function callApi(
  basePath: string,
  path: string,
  body?: unknown,
  fetchImpl: typeof fetch = fetch,
): Promise<ApiResult> {
  const init: RequestInit = {
    method: body === undefined ? "GET" : "POST",
    credentials: "same-origin",
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  const response = await fetchImpl(apiUrl(basePath, path), init);
  let parsed: unknown = {};
  try {
    parsed = await response.clone().json();
  } catch {
    parsed = {};
  }
  const obj = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return { ok: response.ok, status: response.status, body: obj, response };
}

/** The stable error code of a failed call (`invalid_code`, `step_up_required`, ...), or `http_<status>`. */
export function errorCode(result: ApiResult): string {
  return typeof result.body.error === "string" ? result.body.error : `http_${result.status}`;
}

/** A user-facing sentence for a failed call: the server's `detail` when it gave one. */
export function errorMessage(result: ApiResult): string {
  if (typeof result.body.detail === "string" && result.body.detail) return result.body.detail;
  if (result.status === 429) return "Too many attempts. Try again later.";
  return "Something went wrong. Please try again.";
}
