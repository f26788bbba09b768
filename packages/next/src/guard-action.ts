import type { GuardResult } from "@stepup/http";
import type { GuardActionError, GuardActionResult, StepUpRequired } from "./action-result.js";
import { parseSetCookie } from "./set-cookie.js";

/** The parts of Next's `headers()` and `cookies()` a Server Action guard needs (injectable for tests). */
export interface ActionRequestApi {
  headers(): Promise<{
    get(name: string): string | null;
    forEach(fn: (value: string, key: string) => void): void;
  }>;
  cookies(): Promise<{ set(name: string, value: string, options: Record<string, unknown>): unknown }>;
}

const ERRORS: ReadonlySet<string> = new Set<GuardActionError>([
  "unauthenticated",
  "step_up_blocked",
  "too_many_attempts",
  "store_unavailable",
]);

function firstHop(value: string | null): string | undefined {
  const first = value?.split(",")[0]?.trim();
  return first ? first : undefined;
}

/**
 * A Server Action is a public POST endpoint that anyone can call with a forged form: it is only
 * ours if the browser says it comes from this very host (or an origin the app trusts). A missing
 * `Origin` is refused too: every browser sends one on a cross-origin or POST fetch.
 */
export function originAllowed(
  origin: string | null,
  host: string | undefined,
  trustedOrigins: readonly string[],
): boolean {
  if (!origin || origin === "null") return false;
  if (trustedOrigins.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Builds the Fetch `Request` a Server Action stands for, from Next's request headers. */
export function actionRequest(
  headers: Awaited<ReturnType<ActionRequestApi["headers"]>>,
  trustProxy: boolean,
): { request: Request; host: string | undefined; ip: string | undefined } {
  const host =
    (trustProxy ? firstHop(headers.get("x-forwarded-host")) : undefined) ?? headers.get("host") ?? undefined;
  const forwardedProto = trustProxy ? firstHop(headers.get("x-forwarded-proto")) : undefined;
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host ?? "");
  const proto =
    forwardedProto === "http" || forwardedProto === "https" ? forwardedProto : local ? "http" : "https";
  const copy = new Headers();
  headers.forEach((value, key) => {
    copy.append(key, value);
  });
  // An action's caller is script (React's fetch), so the guard answers in JSON, never a page.
  copy.set("accept", "application/json");
  copy.delete("sec-fetch-mode");
  const url = `${proto}://${host ?? "localhost"}/`;
  const request = new Request(url, { method: "POST", headers: copy });
  const ip = trustProxy ? firstHop(headers.get("x-forwarded-for")) : undefined;
  return { request, host, ip };
}

/** Turns the guard's HTTP answer into the typed, serializable result an action returns. */
export async function toActionResult(result: GuardResult): Promise<GuardActionResult> {
  if (result.pass) return { ok: true, stepUp: result.stepUp };
  const { response } = result;
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {}
  if (body.error === "step_up_required" && typeof body.challengeId === "string") {
    const required: StepUpRequired = {
      challengeId: body.challengeId,
      challengeUrl: String(body.challengeUrl ?? ""),
      resource: String(body.resource ?? ""),
      action: String(body.action ?? ""),
      maxAge: Number(body.maxAge ?? 0),
      factors: Array.isArray(body.factors) ? (body.factors as StepUpRequired["factors"]) : [],
      expiresAt: String(body.expiresAt ?? ""),
      ...(typeof body.enrollUrl === "string" ? { enrollUrl: body.enrollUrl } : {}),
    };
    return { ok: false, stepUpRequired: required };
  }
  const code = typeof body.error === "string" && ERRORS.has(body.error) ? body.error : "internal_error";
  const retryAfter = Number(response.headers.get("retry-after"));
  return {
    ok: false,
    error: code as GuardActionError,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
  };
}

/** Applies the guard's Set-Cookie headers (a new step-up session) through Next's `cookies()`. */
export async function applyCookies(response: Response | undefined, api: ActionRequestApi): Promise<void> {
  const list = response?.headers.getSetCookie() ?? [];
  if (list.length === 0) return;
  const jar = await api.cookies();
  for (const header of list) {
    const cookie = parseSetCookie(header);
    if (cookie) jar.set(cookie.name, cookie.value, cookie.options);
  }
}
