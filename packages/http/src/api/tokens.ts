import { StepUpError, type StepUpUser } from "@stepup/core";
import { readJson } from "../body.js";
import { runGuard } from "../guard/guard.js";
import { renderGuard } from "../guard/render-guard.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { json } from "../problem.js";
import { needsStepUp } from "./own-step-up.js";
import { currentSid, sessionIdOf } from "./session-of.js";

type Ctx = RequestContext & { user: StepUpUser };

/**
 * POST `{basePath}/api/token` `{ resource, action }`: a step-up token for that rule, when this
 * browser's step-up session is fresh for it; otherwise the guard's answer for the rule (a 401
 * `step_up_required` with a challenge opened, 403 blocked, 429 locked), so a client steps up and
 * asks again. The rule is looked up here, never taken from the client. A token is minted from the
 * cookie's session only: an `Authorization: Bearer` token never buys a new one (no self-renewal).
 * @throws StepUpError NOT_FOUND when tokens are off, INVALID_INPUT for a transaction rule
 */
export async function issueToken(http: HttpContext, request: Request, ctx: Ctx): Promise<Response> {
  if (!http.engine.tokens.enabled) throw new StepUpError("NOT_FOUND", "No such endpoint.");
  const body = await readJson(request);
  const rule = http.engine.rules.lookup(body.resource, body.action);
  if (rule.match === "transaction") {
    // Its grant is bound to one request's details, which this call does not have: the guarded
    // route itself is where such a step-up is asked for and spent.
    throw new StepUpError(
      "INVALID_INPUT",
      "A transaction rule's step-up is bound to its request: no token.",
      {
        field: "resource",
      },
    );
  }
  const sid = await sessionIdOf(http, request, ctx.user);
  // A pass from the guard after "not fresh" means another tab stepped up in between: try again.
  // A store that keeps answering both ways is failing, and the request fails closed.
  for (let attempt = 0; attempt < 3; attempt++) {
    const minted = await http.engine.tokens.mint(ctx.user, sid, rule);
    if (!needsStepUp(minted)) {
      return json({ token: minted.token, expiresAt: new Date(minted.expiresAtMs).toISOString() }, 200);
    }
    const outcome = await runGuard(http, request, ctx, rule);
    if (outcome.kind !== "pass") return renderGuard(http, request, outcome);
    // Waived by policy (no step-up asked of this user now): a token still proves one, so ask.
    if (outcome.stepUp.verifiedAt === null) return await askStepUp(http, request, ctx, rule);
  }
  throw new StepUpError("STORE_UNAVAILABLE", "The step-up service is temporarily unavailable.");
}

/** The 401 `step_up_required` the guard gives, for a rule its policy waived just now. */
async function askStepUp(
  http: HttpContext,
  request: Request,
  ctx: Ctx,
  rule: Parameters<HttpContext["engine"]["openChallenge"]>[2],
): Promise<Response> {
  const { sid, setCookie } = await currentSid(http, request, ctx.user);
  const opened = await http.engine.openChallenge(ctx.user, sid, rule);
  const response = renderGuard(http, request, { kind: "step-up-required", rule, opened, cookies: [] });
  if (setCookie) response.headers.append("set-cookie", setCookie);
  return response;
}

/**
 * GET/HEAD `{basePath}/.well-known/jwks.json`: the public keys step-up tokens are signed with, for
 * other services to check them offline. Public, cacheable for five minutes (so a rotation must
 * publish the new key at least that long before it signs); 404 when tokens are off.
 * @throws StepUpError NOT_FOUND, METHOD_NOT_ALLOWED
 */
export function serveJwks(http: HttpContext, request: Request): Response {
  if (!http.engine.tokens.enabled) throw new StepUpError("NOT_FOUND", "No such endpoint.");
  if (request.method !== "GET" && request.method !== "HEAD")
    throw new StepUpError("METHOD_NOT_ALLOWED", "Method not allowed.");
  // Only the public members, picked by name: a private `d` can never slip through a spread.
  const keys = http.engine.tokens.jwks().keys.map(({ kty, crv, x, y, kid, alg, use }) => ({
    kty,
    crv,
    x,
    y,
    kid,
    alg,
    use,
  }));
  return new Response(request.method === "HEAD" ? null : JSON.stringify({ keys }), {
    status: 200,
    headers: {
      "content-type": "application/jwk-set+json",
      "cache-control": "public, max-age=300",
      "x-content-type-options": "nosniff",
      // Other origins' browsers may read public keys (a SPA checking a token needs no proxy).
      "access-control-allow-origin": "*",
    },
  });
}
