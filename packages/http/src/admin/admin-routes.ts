import { readUserId, StepUpError, type StepUpUser } from "@stepup/core";
import { auditLimit, auditView } from "../api/audit-view.js";
import { readJson } from "../body.js";
import { runGuard } from "../guard/guard.js";
import { renderGuard } from "../guard/render-guard.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import { json } from "../problem.js";
import { checkOrigin } from "../security.js";

type MaybePromise<T> = T | Promise<T>;

/** Who may use the admin API, and how it finds the user an action is about (the `StepUpHttpOptions` of the same names). */
export interface AdminAccess {
  /** Whether the signed-in `user` is an administrator. Anything but `true` is a 403. */
  authorize: (user: StepUpUser, request: Request) => MaybePromise<boolean>;
  /** The target user's `{ id, email?, ... }` for the reset notice; without it the notice has the id only. */
  findUser?: ((id: string) => MaybePromise<StepUpUser | null | undefined>) | undefined;
}

type Handler = (http: HttpContext, request: Request, admin: StepUpUser, uid: string) => Promise<Response>;

/** Most entries `GET admin/users/{id}/audit` returns (the whole kept log). */
const AUDIT_MAX = 200;
/** Its default. */
const AUDIT_DEFAULT = 50;

/** The user's status: what the admin page shows, and what every action answers with. */
async function status(http: HttpContext, _r: Request, _a: StepUpUser, uid: string) {
  return json(await http.engine.admin.status(uid));
}

async function audit(http: HttpContext, request: Request, _a: StepUpUser, uid: string) {
  const limit = auditLimit(new URL(request.url), AUDIT_MAX, AUDIT_DEFAULT);
  const [entries, chain] = await Promise.all([
    http.engine.audit.list(uid, limit),
    http.engine.verifyAuditChain(uid),
  ]);
  return json({ events: entries.map((e) => auditView(e, true)), chain });
}

async function reset(http: HttpContext, request: Request, admin: StepUpUser, uid: string) {
  const found = await http.admin?.findUser?.(uid);
  // The app's directory may not know the id (a user deleted since): reset anyway, notify by id.
  const user = found && found.id === uid ? found : undefined;
  await http.engine.admin.reset(uid, { by: admin.id, ...(user ? { user } : {}) });
  return status(http, request, admin, uid);
}

async function revoke(http: HttpContext, request: Request, admin: StepUpUser, uid: string) {
  await http.engine.admin.revoke(uid, { by: admin.id });
  return status(http, request, admin, uid);
}

async function unlock(http: HttpContext, request: Request, admin: StepUpUser, uid: string) {
  await http.engine.admin.unlock(uid, { by: admin.id });
  return status(http, request, admin, uid);
}

/** Method, the path after `admin/users/{id}` ("" for the user itself), handler. */
const ROUTES: readonly (readonly [string, string, Handler])[] = [
  ["GET", "", status],
  ["GET", "audit", audit],
  ["POST", "reset", reset],
  ["POST", "revoke", revoke],
  ["POST", "unlock", unlock],
];

/**
 * `{basePath}/admin/users/{id}[/action]`: an administrator looks at, resets, revokes or unlocks a
 * user. Off (404) without `authorizeAdmin`. In order, so that each refusal tells nothing about the
 * next check: signed in (401), same-origin for a POST (403), an administrator per the app (403
 * `forbidden`, before the id is even read), a well-formed id (400), then the administrator's own
 * fresh step-up for `stepup:admin` (the guard's 401 `step_up_required`, never waived by a policy
 * or a trusted device); only then is the target read or changed.
 */
export async function handleAdmin(
  http: HttpContext,
  request: Request,
  ctx: RequestContext,
  segments: string[],
): Promise<Response> {
  const access = http.admin;
  if (!access) throw new StepUpError("NOT_FOUND", "No such endpoint.");
  const [area, id, action = "", ...rest] = segments;
  if (area !== "users" || id === undefined || id === "" || rest.length > 0)
    throw new StepUpError("NOT_FOUND", "No such endpoint.");
  const matches = ROUTES.filter(([, path]) => path === action);
  if (matches.length === 0) throw new StepUpError("NOT_FOUND", "No such endpoint.");
  const handler = matches.find(([method]) => method === request.method)?.[2];
  if (!handler) throw new StepUpError("METHOD_NOT_ALLOWED", "Method not allowed.");

  const user = ctx.user;
  if (!user) throw new StepUpError("UNAUTHENTICATED", "Sign in first.");
  if (request.method !== "GET") checkOrigin(request, http.trustedOrigins);
  if ((await access.authorize(user, request)) !== true)
    throw new StepUpError("FORBIDDEN", "Only an administrator can do this.");
  const uid = readUserId(id, "id");
  // A JSON body or none: a cross-site form cannot send JSON without a preflight.
  if (request.method === "POST") await readJson(request);
  const outcome = await runGuard(http, request, { ...ctx, user }, http.engine.ownRules.admin);
  if (outcome.kind !== "pass") return renderGuard(http, request, outcome);
  return handler(http, request, user, uid);
}
