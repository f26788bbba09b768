import type { StepUpUser } from "@stepup/core";
import { generate } from "otplib";
import type { createStepUpHttp } from "../src/create-step-up-http.js";
import type { GuardInput, GuardOutcome } from "../src/guard/guard.js";
import type { RequestContext } from "../src/http-context.js";

type Http = ReturnType<typeof createStepUpHttp>;
type Guard = (
  request: Request,
  ctx: RequestContext,
  input?: GuardInput,
) => GuardOutcome | Promise<GuardOutcome>;

/** A settable clock for `createStepUp({ clock })`: time moves only when a test says so. */
export function fakeClock(startMs = Date.UTC(2026, 0, 5, 12)) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

export type FakeClock = ReturnType<typeof fakeClock>;

/** A TOTP code for the clock's time step. */
export const totpAt = (secret: string, clock: FakeClock) =>
  generate({ secret, epoch: Math.floor(clock.now() / 1000) });

/**
 * One browser against the HTTP layer: a cookie jar (the step-up session and the device cookie),
 * same-origin JSON calls to the API, and the guard of a protected route. Whoever is signed in is
 * the app's business: each call names the user, so two users can share one browser.
 */
export function browser(http: Http, opts: { ip?: string; userAgent?: string; origin?: string } = {}) {
  const origin = opts.origin ?? "http://localhost:3000";
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const set of res.headers.getSetCookie()) {
      const [pair = ""] = set.split(";");
      const at = pair.indexOf("=");
      const value = pair.slice(at + 1);
      if (value === "" || /Max-Age=0\b/.test(set)) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), value);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const ctx = (user: StepUpUser | null): RequestContext => ({ user, ...(opts.ip ? { ip: opts.ip } : {}) });
  const headers = (extra: Record<string, string> = {}) => ({
    accept: "application/json",
    origin,
    cookie: cookie(),
    ...(opts.userAgent ? { "user-agent": opts.userAgent } : {}),
    ...extra,
  });

  const self = {
    jar,
    /** A same-origin JSON call to `{basePath}/api/<path>`. */
    api(user: StepUpUser, method: string, path: string, body?: unknown) {
      return self.call(user, method, `/stepup/api/${path}`, body);
    },
    /** A JSON call to `path` under this origin as `user` (null: signed out); `extra` headers win. */
    async call(
      user: StepUpUser | null,
      method: string,
      path: string,
      body?: unknown,
      extra: Record<string, string> = {},
    ) {
      const res = await http.handle(
        new Request(`${origin}${path}`, {
          method,
          headers: headers({
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...extra,
          }),
          body: body === undefined ? null : JSON.stringify(body),
        }),
        ctx(user),
      );
      keep(res);
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
      };
    },
    /** A guarded request: the outcome, and any cookies it set kept in the jar. */
    async visit(guard: Guard, user: StepUpUser, input?: GuardInput, path = "/protected") {
      const request = new Request(`${origin}${path}`, { headers: headers() });
      const outcome = await guard(request, ctx(user), input);
      if (outcome.kind === "step-up-required") keep(http.render(request, outcome));
      return outcome;
    },
    /** Enrolls TOTP now (the first factor needs no step-up); the secret, for codes. */
    async enrollTotp(user: StepUpUser, clock: FakeClock): Promise<string> {
      const started = await self.api(user, "POST", "factors/totp", {});
      const secret = String(started.body.secret);
      await self.api(user, "POST", `factors/totp/${started.body.factorId}/confirm`, {
        code: await totpAt(secret, clock),
      });
      clock.advance(30_000); // the next code is another time step (TOTP refuses a step twice)
      return secret;
    },
    /** Meets `guard`, then verifies its challenge with TOTP (`rememberDevice` when asked). */
    async stepUp(guard: Guard, user: StepUpUser, secret: string, clock: FakeClock, remember = false) {
      const outcome = await self.visit(guard, user);
      if (outcome.kind !== "step-up-required") throw new Error(`expected a challenge, got ${outcome.kind}`);
      const verified = await self.api(user, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
        factor: "totp",
        code: await totpAt(secret, clock),
        ...(remember ? { rememberDevice: true } : {}),
      });
      clock.advance(30_000);
      if (verified.status !== 200)
        throw new Error(`verify: ${verified.status} ${JSON.stringify(verified.body)}`);
      return verified;
    },
    /** Signs out of the app: the step-up session cookie goes, the device cookie stays (it is the browser's). */
    signOut() {
      for (const name of [...jar.keys()]) if (!name.endsWith("_device")) jar.delete(name);
    },
    /** The device cookie's value, if any. */
    device: () => [...jar].find(([k]) => k.endsWith("_device"))?.[1],
  };
  return self;
}
