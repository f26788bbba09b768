import { StepUpError, type StepUpUser, summarizeFactor } from "@stepup/core";
import { withOwnStepUp } from "../api/own-step-up.js";
import { readForm } from "../body.js";
import type { HttpContext, RequestContext } from "../http-context.js";
import {
  type ConsoleDevice,
  type ConsoleMethod,
  type ConsolePageData,
  type PendingEnrollment,
  renderConsolePage,
} from "../pages/index.js";
import { checkOrigin, safeReturnTo } from "../security.js";
import { recentActivity } from "./activity-words.js";
import { newNonce, pageResponse } from "./page-response.js";
import { keepForOneRead, readOnce, type ShownOnce } from "./shown-once.js";

type ConsoleState = Pick<ConsolePageData, "pending" | "notice" | "error" | "returnTo" | "newRecoveryCodes">;

/** The factor types the console can add: every plugin that declares `ui.enroll`, in configuration order. */
function consoleMethods(http: HttpContext): ConsoleMethod[] {
  return [...http.engine.config.factors.values()].flatMap((p) =>
    p.ui.enroll && !p.recovery
      ? [
          {
            type: p.type,
            title: p.ui.title,
            enroll: p.ui.enroll,
            ...(p.ui.prompt.kind === "code" ? { prompt: p.ui.prompt } : {}),
          },
        ]
      : [],
  );
}

/** The started (or resumed) enrollment's client view, kept to what the page reads. */
function pendingOf(type: string, view: Record<string, unknown>): PendingEnrollment {
  const text = (key: string) => (typeof view[key] === "string" ? { [key]: view[key] as string } : {});
  return {
    type,
    factorId: String(view.factorId ?? ""),
    ...text("qrCode"),
    ...text("secret"),
    ...text("otpauthUri"),
    ...text("destination"),
    ...text("expiresAt"),
  };
}

/** The fields a type asks before starting (`ui.enroll.fields`), read from the form; empty ones left out. */
function enrollInput(http: HttpContext, type: string, form: URLSearchParams): Record<string, string> {
  const fields = http.engine.config.factors.get(type)?.ui.enroll?.fields ?? [];
  return Object.fromEntries(
    fields.flatMap((f) => {
      const value = form.get(f.name)?.trim();
      return value ? [[f.name, value]] : [];
    }),
  );
}

/** The user's trusted devices, this browser's marked; undefined when trusted devices are off. */
async function trustedDevices(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
): Promise<ConsoleDevice[] | undefined> {
  if (http.engine.config.policy.trustedDays === 0) return undefined;
  const current = http.device.idOf(http.device.read(request.headers.get("cookie"), request));
  const devices = await http.engine.devices.list(user.id);
  return devices.map((d) => (d.id === current ? { ...d, current: true } : d));
}

async function render(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  state: ConsoleState,
  status = 200,
  headers = new Headers(),
): Promise<Response> {
  const nonce = newNonce();
  const [all, recoveryCodesRemaining, devices, activity] = await Promise.all([
    http.engine.factors.list(user.id),
    http.engine.factors.recoveryCodesRemaining(user.id),
    trustedDevices(http, request, user),
    recentActivity(http, user.id),
  ]);
  const factors = all.flatMap((f) => {
    const plugin = http.engine.config.factors.get(f.type);
    if (plugin?.recovery === true) return [];
    const { createdAt, lastUsedAt } = summarizeFactor(f);
    const restricted = plugin?.ui.restricted;
    return [{ ...http.engine.offer(f), createdAt, lastUsedAt, ...(restricted ? { restricted } : {}) }];
  });
  const body = renderConsolePage({
    appName: http.engine.config.appName,
    nonce,
    basePath: http.basePath,
    user: {
      id: user.id,
      ...(user.email ? { email: user.email } : {}),
      ...(user.phone ? { phone: user.phone } : {}),
      ...(user.name ? { name: user.name } : {}),
    },
    csrfToken: http.csrf.token(`${user.id}:console`),
    factors,
    recoveryCodesRemaining,
    methods: consoleMethods(http),
    ...(devices ? { devices } : {}),
    activity,
    ...state,
  });
  return pageResponse(body, status, headers, nonce);
}

/**
 * Post-redirect-get for a POST that issued recovery codes: 303 to the console, the codes sealed
 * for its one next read (`keepForOneRead`), so reloading the page that shows them re-posts nothing.
 */
async function showCodesOnce(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  returnTo: string | undefined,
  shown: ShownOnce,
): Promise<Response> {
  const query = returnTo === undefined ? "" : `?returnTo=${encodeURIComponent(returnTo)}`;
  const headers = new Headers({ location: `${http.basePath}/console${query}`, "cache-control": "no-store" });
  headers.append("set-cookie", await keepForOneRead(http, user.id, new URL(request.url), shown));
  return new Response(null, { status: 303, headers });
}

/** GET {basePath}/console: the factor console (with new recovery codes, the one time they are shown). */
export async function showConsole(http: HttpContext, request: Request, user: StepUpUser): Promise<Response> {
  const returnTo = safeReturnTo(new URL(request.url).searchParams.get("returnTo"), new URL(request.url));
  const { shown, clear } = await readOnce(http, request, user.id);
  const headers = new Headers();
  if (clear) headers.append("set-cookie", clear);
  const codes = shown ? { newRecoveryCodes: shown.codes, notice: shown.notice } : {};
  return render(http, request, user, { ...(returnTo ? { returnTo } : {}), ...codes }, 200, headers);
}

/**
 * POST {basePath}/console/...: the console's forms. Each carries a CSRF token bound to the user;
 * adding a second factor and removing one are guarded like any sensitive route (the inline
 * challenge re-submits the form after success).
 */
export async function submitConsole(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
  ctx: RequestContext,
  path: string[],
): Promise<Response> {
  checkOrigin(request, http.trustedOrigins);
  const form = await readForm(request);
  http.csrf.verify(`${user.id}:console`, form.get("csrf"));
  const returnTo = safeReturnTo(form.get("returnTo"), new URL(request.url));
  const base: ConsoleState = returnTo ? { returnTo } : {};
  const fields = [...form.entries()] as [string, string][];
  const owned = { ...ctx, user };
  try {
    const [first, id, verb] = path;
    const [, type, factorId, confirm] = path;
    // Only types the console adds with a form: a WebAuthn ceremony goes through the JSON API.
    const enroll = type === undefined ? undefined : http.engine.config.factors.get(type)?.ui.enroll;
    if (first === "add" && (!enroll || enroll.ceremony)) throw new StepUpError("NOT_FOUND", "No such page.");
    if (first === "add" && type && factorId === undefined) {
      // Adding a second factor is guarded like any sensitive route (the engine says when).
      const input = enrollInput(http, type, form);
      const started = await withOwnStepUp(
        http,
        request,
        owned,
        (sid) => http.engine.factors.enrollStart(user, type, input, sid, ctx.ip),
        { form: fields },
      );
      if (started instanceof Response) return started;
      return render(http, request, user, { ...base, pending: pendingOf(type, started) });
    }
    if (first === "add" && type && factorId && confirm === "confirm" && path.length === 4) {
      const input = {
        code: form.get("code") ?? undefined,
        ...(form.get("name") ? { name: form.get("name") } : {}),
      };
      let confirmed: Awaited<ReturnType<typeof http.engine.factors.enrollConfirm>> | Response;
      try {
        confirmed = await withOwnStepUp(
          http,
          request,
          owned,
          (sid) => http.engine.factors.enrollConfirm(user, type, factorId, input, sid),
          { form: fields },
        );
      } catch (error) {
        // A mistyped first code keeps the setup on screen: the app has already scanned its QR code.
        const resumed = await http.engine.factors.enrollResume(user, type, factorId);
        if (!(error instanceof StepUpError) || !resumed) throw error;
        const pending = pendingOf(type, resumed);
        return render(http, request, user, { ...base, pending, error: error.message }, error.status);
      }
      if (confirmed instanceof Response) return confirmed;
      const title = http.engine.config.factors.get(type)?.ui.title ?? "Method";
      const notice = `${title} added.`;
      if ("recoveryCodes" in confirmed && confirmed.recoveryCodes)
        return showCodesOnce(http, request, user, returnTo, { codes: confirmed.recoveryCodes, notice });
      return render(http, request, user, { ...base, notice });
    }
    if (first === "recovery-codes" && id === undefined) {
      const issued = await withOwnStepUp(
        http,
        request,
        owned,
        (sid) => http.engine.factors.regenerateRecoveryCodes(user, sid),
        { form: fields },
      );
      if (issued instanceof Response) return issued;
      return showCodesOnce(http, request, user, returnTo, {
        codes: issued.recoveryCodes,
        notice: "New recovery codes issued; the old ones no longer work.",
      });
    }
    if (first === "factors" && id && verb === "rename") {
      await http.engine.factors.update(user.id, id, { name: form.get("name") ?? undefined });
      return render(http, request, user, { ...base, notice: "Factor renamed." });
    }
    if (first === "factors" && id && verb === "primary") {
      await http.engine.factors.update(user.id, id, { primary: true });
      return render(http, request, user, { ...base, notice: "Primary factor changed." });
    }
    // Revoking a device only takes trust away: no step-up (someone who lost a laptop needs it now).
    if (first === "devices" && id === "revoke-all" && verb === undefined) {
      await http.engine.devices.revokeAll(user.id);
      return render(http, request, user, { ...base, notice: "Every device was forgotten." });
    }
    if (first === "devices" && id && verb === "revoke" && path.length === 3) {
      const gone = await http.engine.devices.revoke(user.id, id).then(
        () => false,
        (error: unknown) => {
          if (error instanceof StepUpError && error.code === "NOT_FOUND") return true;
          throw error;
        },
      );
      // Already revoked (another tab, "Forget all"): the list shows what is left, and says so.
      if (gone)
        return render(http, request, user, { ...base, error: "That device is no longer trusted." }, 404);
      return render(http, request, user, { ...base, notice: "Device forgotten." });
    }
    if (first === "factors" && id && verb === "remove") {
      const removed = await withOwnStepUp(
        http,
        request,
        owned,
        (sid) => http.engine.factors.remove(user, id, sid),
        { form: fields },
      );
      if (removed instanceof Response) return removed;
      return render(http, request, user, { ...base, notice: "Factor removed." });
    }
    throw new StepUpError("NOT_FOUND", "No such page.");
  } catch (error) {
    if (
      error instanceof StepUpError &&
      [
        "INVALID_CODE",
        "INVALID_INPUT",
        "ENROLLMENT_NOT_FOUND",
        "FACTOR_NOT_FOUND",
        "TOO_MANY_ATTEMPTS",
        // An enrollment's code could not be sent: too soon or too many, or the message bounced.
        "RATE_LIMITED",
        "DELIVERY_FAILED",
      ].includes(error.code)
    ) {
      const { retryAfter } = error.details;
      const headers = new Headers();
      if (retryAfter !== undefined && retryAfter > 0) headers.set("retry-after", String(retryAfter));
      return render(http, request, user, { ...base, error: error.message }, error.status, headers);
    }
    throw error;
  }
}
