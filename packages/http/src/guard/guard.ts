import { type Rule, StepUpError, type StepUpUser } from "@stepup/core";
import type { HttpContext, RequestContext } from "../http-context.js";
import { problem, toResponse } from "../problem.js";
import { safeReturnTo, wantsHtml } from "../security.js";
import { challengePageResponse, errorPage } from "../ui/page-response.js";

/** What a protected handler may read about the step-up that let it run. */
export interface StepUpInfo {
  /** When the second factor was proved (ms since the epoch); `null` when a policy allowed it. */
  verifiedAt: number | null;
  expiresAt: number | null;
  factor: string | null;
  level: string | null;
  amr: readonly string[];
  resource: string;
  action: string;
}

/** Extra inputs of one guarded request. */
export interface GuardInput {
  /** Transaction digest for `match: "transaction"` rules. */
  txn?: string;
  /** The original urlencoded form fields, for re-submission after a step-up. */
  form?: readonly (readonly [string, string])[];
}

/** The parts of a request the guard reads (a Fetch `Request` fits; adapters may pass a light view). */
export interface GuardRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

const NO_INPUT: GuardInput = Object.freeze({});

export type GuardResult = { pass: true; stepUp: StepUpInfo } | { pass: false; response: Response };

/**
 * Where to come back to after the step-up. A request path like `//evil.example/x` is a valid path
 * on our origin but a protocol-relative URL to a browser: such paths go home instead.
 */
function relativeUrl(url: URL): string {
  return safeReturnTo(url.pathname + url.search, url) ?? "/";
}

/**
 * The guard: one question to the engine, then one of the responses of DESIGN.md's table. Any store
 * failure ends in 503 and never in the handler (fail closed).
 */
export async function runGuard(
  http: HttpContext,
  request: GuardRequest,
  ctx: RequestContext,
  rule: Rule,
  input: GuardInput = NO_INPUT,
): Promise<GuardResult> {
  const user = ctx.user;
  if (!user) {
    return { pass: false, response: problem("UNAUTHENTICATED", "Sign in first.") };
  }
  try {
    const now = http.engine.now();
    const header = request.headers.get("cookie");
    // A cache hit is synchronous: no await for the common case (the guard runs on every request).
    const peeked = http.cookie.peek(header, now);
    const cookie = peeked === undefined ? await http.cookie.read(header, now) : peeked;
    const sid = cookie && cookie.uid === user.id ? cookie.sid : undefined;
    // The client address only feeds a policy hook: adapters may compute it lazily (a getter).
    const ip = http.engine.config.policy ? ctx.ip : undefined;
    const decision = await http.engine.decide(user, sid, rule, input.txn, ip);
    switch (decision.outcome) {
      case "allow": {
        const a = decision.assurance;
        const stepUp = {
          verifiedAt: decision.verifiedAtMs,
          expiresAt: decision.expiresAtMs,
          factor: a.factor,
          level: a.level,
          amr: a.amr,
          resource: rule.resource,
          action: rule.action,
        };
        return { pass: true, stepUp };
      }
      case "allow-by-policy":
        return {
          pass: true,
          stepUp: {
            verifiedAt: null,
            expiresAt: null,
            factor: null,
            level: null,
            amr: [],
            resource: rule.resource,
            action: rule.action,
          },
        };
      case "block":
        return {
          pass: false,
          response: problem("STEP_UP_BLOCKED", "This action is not allowed.", {
            resource: rule.resource,
            action: rule.action,
          }),
        };
      case "challenge":
        if (decision.retryAfter > 0) {
          const e = new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Try again later.", {
            retryAfter: decision.retryAfter,
          });
          return { pass: false, response: wantsHtml(request) ? errorPage(http, e) : toResponse(e, http.log) };
        }
        return {
          pass: false,
          response: await challengeResponse(http, request, user, sid, rule, input, wantsHtml(request)),
        };
    }
  } catch (error) {
    if (error instanceof StepUpError && error.code === "STORE_UNAVAILABLE" && wantsHtml(request)) {
      http.log("store unavailable", { cause: String(error.cause) });
      return { pass: false, response: errorPage(http, error) };
    }
    return { pass: false, response: toResponse(error, http.log) };
  }
}

async function challengeResponse(
  http: HttpContext,
  request: GuardRequest,
  user: StepUpUser,
  currentSid: string | undefined,
  rule: Rule,
  input: GuardInput,
  html: boolean,
): Promise<Response> {
  const url = new URL(request.url);
  const sid = currentSid ?? http.engine.newSessionId();
  const headers = new Headers();
  if (!currentSid) headers.append("set-cookie", await http.cookie.issue({ sid, uid: user.id }, url));
  const isPost = request.method === "POST";
  const opened = await http.engine.openChallenge(user, sid, rule, {
    returnTo: relativeUrl(url),
    method: isPost ? "POST" : "GET",
    ...(isPost && input.form ? { form: input.form } : {}),
    ...(input.txn === undefined ? {} : { txn: input.txn }),
  });
  const { challenge } = opened;
  if (html) return challengePageResponse(http, user, opened, 401, headers);

  const bearer = /^bearer\s/i.test(request.headers.get("authorization") ?? "");
  const extra: Record<string, string> = {};
  if (bearer) {
    // RFC 9470 section 3: tell an OAuth client what authentication event it must bring.
    extra["www-authenticate"] =
      `Bearer error="insufficient_user_authentication", error_description="A fresh step-up is required", max_age=${rule.maxAge}`;
  }
  const response = problem(
    "STEP_UP_REQUIRED",
    "Confirm it's you with a second factor to continue.",
    {
      challengeId: challenge.id,
      challengeUrl: `${http.basePath}/challenge/${challenge.id}`,
      resource: rule.resource,
      action: rule.action,
      maxAge: rule.maxAge,
      factors: opened.factors.map((f) => ({ id: f.id, type: f.type, name: f.name, primary: f.primary })),
      expiresAt: new Date(challenge.expiresAtMs).toISOString(),
      ...(opened.factors.length === 0 ? { enrollUrl: `${http.basePath}/console` } : {}),
    },
    extra,
  );
  for (const c of headers.getSetCookie()) response.headers.append("set-cookie", c);
  return response;
}
