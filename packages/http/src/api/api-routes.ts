import { StepUpError, type StepUpUser, summarizeFactor } from "@stepup/core";
import { readJson } from "../body.js";
import { trustedDeviceDays } from "../guard/render-guard.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { json } from "../problem.js";
import { checkOrigin } from "../security.js";
import { auditLimit, auditView } from "./audit-view.js";
import { withOwnStepUp } from "./own-step-up.js";
import { currentSid, sessionForChallenge, sessionIdOf } from "./session-of.js";
import { issueToken } from "./tokens.js";
import { deviceSetCookie, verifyClient } from "./verify-client.js";

type Ctx = RequestContext & { user: StepUpUser };
type Handler = (http: HttpContext, request: Request, ctx: Ctx, params: string[]) => Promise<Response>;

interface Route {
  method: string;
  /** Path segments after `/api`; `:` marks a parameter. */
  pattern: string[];
  handler: Handler;
}

const route = (method: string, path: string, handler: Handler): Route => ({
  method,
  pattern: path.split("/"),
  handler,
});

const noContent = () => new Response(null, { status: 204, headers: { "cache-control": "no-store" } });

async function listFactors(http: HttpContext, _r: Request, { user }: Ctx): Promise<Response> {
  const [factors, recoveryCodesRemaining] = await Promise.all([
    http.engine.factors.list(user.id),
    http.engine.factors.recoveryCodesRemaining(user.id),
  ]);
  // Recovery codes are a count, not a factor the user manages one by one.
  const recovery = (type: string) => http.engine.config.factors.get(type)?.recovery === true;
  const listed = factors.filter((f) => !recovery(f.type)).map(summarizeFactor);
  return json({ factors: listed, recoveryCodesRemaining });
}

async function enrollStart(http: HttpContext, request: Request, ctx: Ctx, [type = ""]: string[]) {
  const body = await readJson(request);
  // With a factor enrolled, adding another must be proved with it (the engine enforces it).
  const started = await withOwnStepUp(http, request, ctx, (sid) =>
    http.engine.factors.enrollStart(ctx.user, type, body, sid, ctx.ip),
  );
  return started instanceof Response ? started : json(started, 201);
}

async function enrollConfirm(http: HttpContext, request: Request, ctx: Ctx, [type = "", factorId]: string[]) {
  const body = await readJson(request);
  // An enrollment started before the user had a factor still needs a step-up if one exists now.
  const confirmed = await withOwnStepUp(http, request, ctx, (sid) =>
    http.engine.factors.enrollConfirm(ctx.user, type, factorId, body, sid),
  );
  if (confirmed instanceof Response) return confirmed;
  const { factor, recoveryCodes } = confirmed;
  return json({ factor: summarizeFactor(factor), ...(recoveryCodes ? { recoveryCodes } : {}) });
}

async function updateFactor(http: HttpContext, request: Request, { user }: Ctx, [id]: string[]) {
  const body = await readJson(request);
  return json({ factor: summarizeFactor(await http.engine.factors.update(user.id, id, body)) });
}

async function removeFactor(http: HttpContext, request: Request, ctx: Ctx, [id]: string[]) {
  const removed = await withOwnStepUp(http, request, ctx, (sid) =>
    http.engine.factors.remove(ctx.user, id, sid),
  );
  return removed instanceof Response ? removed : noContent();
}

async function openChallenge(http: HttpContext, request: Request, { user }: Ctx) {
  const body = await readJson(request);
  const rule = http.engine.rules.lookup(body.resource, body.action);
  const { sid, setCookie } = await currentSid(http, request, user);
  const opened = await http.engine.openChallenge(user, sid, rule);
  const headers: Record<string, string> = setCookie ? { "set-cookie": setCookie } : {};
  return json(
    {
      challengeId: opened.challenge.id,
      expiresAt: new Date(opened.challenge.expiresAtMs).toISOString(),
      factors: opened.factors.map((f) => http.engine.offer(f)),
      ...(opened.challenge.label === undefined ? {} : { label: opened.challenge.label }),
      ...trustedDeviceDays(http),
    },
    201,
    headers,
  );
}

async function startChallenge(http: HttpContext, request: Request, { user, ip }: Ctx, [id]: string[]) {
  const body = await readJson(request);
  const sid = await sessionForChallenge(http, request, user);
  return json(await http.engine.challenges.start(user, sid, id, { ...body, factor: body.factor }, ip));
}

async function verifyChallenge(http: HttpContext, request: Request, ctx: Ctx, [id]: string[]) {
  const body = await readJson(request);
  const sid = await sessionForChallenge(http, request, ctx.user);
  // `rememberDevice` travels in the body; the engine checks its type.
  const result = await http.engine.challenges.verify(
    ctx.user,
    sid,
    id,
    { ...body, factor: body.factor },
    verifyClient(http, request, ctx),
  );
  const setCookie = await http.cookie.issue({ sid: result.sid, uid: ctx.user.id }, new URL(request.url));
  const response = json(
    {
      success: true,
      sid: result.sid,
      timestamp: new Date(result.assurance.atMs).toISOString(),
      resource: result.challenge.resource,
      action: result.challenge.action,
      trustedDevice: result.device.trusted,
    },
    200,
    { "set-cookie": setCookie },
  );
  response.headers.append("set-cookie", deviceSetCookie(http, request, result.device));
  return response;
}

async function listDevices(http: HttpContext, request: Request, { user }: Ctx) {
  // "This device": the id part of this browser's cookie (a marker on the caller's own list only).
  const current = http.device.idOf(http.device.read(request.headers.get("cookie"), request));
  const devices = await http.engine.devices.list(user.id);
  return json({ devices: devices.map((d) => (d.id === current ? { ...d, current: true } : d)) });
}

async function revokeDevice(http: HttpContext, _r: Request, { user }: Ctx, [id]: string[]) {
  // No step-up: revoking only takes trust away, which is what someone worried about a lost laptop needs.
  await http.engine.devices.revoke(user.id, id);
  return noContent();
}

async function status(http: HttpContext, request: Request, { user }: Ctx) {
  const url = new URL(request.url);
  const rule = http.engine.rules.lookup(url.searchParams.get("resource"), url.searchParams.get("action"));
  const sid = await sessionIdOf(http, request, user);
  const result = await http.engine.sessions.check(user.id, sid, rule);
  return json(
    result.fresh
      ? {
          fresh: true,
          verifiedAt: new Date(result.verifiedAtMs).toISOString(),
          expiresAt: new Date(result.expiresAtMs).toISOString(),
        }
      : { fresh: false, verifiedAt: null, expiresAt: null },
  );
}

/** Most entries `GET api/audit` returns (and its default). */
const AUDIT_LIMIT = 50;

async function listAudit(http: HttpContext, request: Request, { user }: Ctx) {
  const entries = await http.engine.audit.list(user.id, auditLimit(new URL(request.url), AUDIT_LIMIT));
  return json({ events: entries.map((e) => auditView(e)) });
}

async function regenerateRecoveryCodes(http: HttpContext, request: Request, ctx: Ctx) {
  await readJson(request);
  const issued = await withOwnStepUp(http, request, ctx, (sid) =>
    http.engine.factors.regenerateRecoveryCodes(ctx.user, sid),
  );
  return issued instanceof Response ? issued : json(issued, 201);
}

const ROUTES: Route[] = [
  route("GET", "factors", listFactors),
  route("POST", "factors/:", enrollStart),
  route("POST", "factors/:/:/confirm", enrollConfirm),
  route("PATCH", "factors/:", updateFactor),
  route("DELETE", "factors/:", removeFactor),
  route("POST", "challenges", openChallenge),
  route("POST", "challenges/:/start", startChallenge),
  route("POST", "challenges/:/verify", verifyChallenge),
  route("GET", "status", status),
  route("GET", "devices", listDevices),
  route("DELETE", "devices/:", revokeDevice),
  route("POST", "recovery-codes", regenerateRecoveryCodes),
  route("GET", "audit", listAudit),
  route("POST", "token", issueToken),
];

/** Routes a request under `{basePath}/api/`; `segments` are the path parts after `api`. */
export async function handleApi(
  http: HttpContext,
  request: Request,
  ctx: RequestContext,
  segments: string[],
): Promise<Response> {
  let methodMismatch = false;
  for (const r of ROUTES) {
    if (r.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const matches = r.pattern.every((p, i) => {
      const s = segments[i] ?? "";
      if (p === ":") {
        params.push(s);
        return s.length > 0;
      }
      return p === s;
    });
    if (!matches) continue;
    if (r.method !== request.method) {
      methodMismatch = true;
      continue;
    }
    const user = ctx.user;
    if (!user) throw new StepUpError("UNAUTHENTICATED", "Sign in first.");
    if (request.method !== "GET") checkOrigin(request, http.trustedOrigins);
    return r.handler(http, request, { ...ctx, user }, params);
  }
  if (methodMismatch) throw new StepUpError("METHOD_NOT_ALLOWED", "Method not allowed.");
  throw new StepUpError("NOT_FOUND", "No such endpoint.");
}
