// Threat: a stolen password signs the attacker in. In the App Router, the login route handler (or
// Server Action) gets the challenge instead of signing in; the completion route learns the user
// once, only in the browser that proved the factor; the retried login (stepUpFetch, useStepUp)
// proceeds once the factor is proved.
import { type EmailMessage, email, memoryStore } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { createStepUp } from "./create-step-up.js";
import type { ActionRequestApi } from "./guard-action.js";

const ORIGIN = "http://localhost:3000";
const alice = { id: "alice", email: "alice@example.com" };

async function setup() {
  const mail: EmailMessage[] = [];
  const jar = new Map<string, string>();
  const keep = (sets: readonly string[]) => {
    for (const set of sets) {
      const [pair = ""] = set.split(";");
      const at = pair.indexOf("=");
      if (/Max-Age=0\b/.test(set)) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const api: ActionRequestApi = {
    headers: async () => new Headers({ host: "localhost:3000", origin: ORIGIN, cookie: cookie() }),
    cookies: async () => ({
      set: (name: string, value: string, options: Record<string, unknown>) =>
        keep([`${name}=${value}; Max-Age=${options.maxAge}`]),
    }),
  };
  const stepup = createStepUp(
    {
      store: memoryStore(),
      secret: "unit-test-secret-0123456789abcdef-0123456789",
      appName: "Test",
      factors: [email({ send: async (m) => void mail.push(m) })],
      // Nobody is signed in to the app until the sign-in completes.
      getUser: () => null,
      logger: { warn() {}, error() {} },
    },
    api,
  );
  const engine = stepup.http.engine;
  const started = (await engine.factors.enrollStart(alice, "email", { email: alice.email }, undefined)) as {
    factorId: string;
  };
  const code = () => /\b(\d{6})\b/.exec(mail.at(-1)?.text ?? "")?.[1] ?? "";
  await engine.factors.enrollConfirm(alice, "email", started.factorId, { code: code() }, undefined);

  const send = (path: string, init: { method?: string; accept?: string; body?: unknown } = {}) =>
    new Request(`${ORIGIN}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        accept: init.accept ?? "application/json",
        origin: ORIGIN,
        cookie: cookie(),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body === undefined ? null : JSON.stringify(init.body),
    });
  /** app/login/route.ts */
  async function login(userId: string, accept = "application/json") {
    const request = send("/login", { method: "POST", accept });
    const challenge = await stepup.beginSignIn(request, userId, { returnTo: "/login/complete" });
    if (challenge) keep(challenge.headers.getSetCookie());
    return challenge ?? Response.json({ signedIn: userId });
  }
  /** app/login/complete/route.ts */
  async function complete() {
    const done = await stepup.completeSignIn(send("/login/complete"));
    if (done) keep(done.headers.getSetCookie());
    return done ? Response.json({ signedIn: done.userId }, { headers: done.headers }) : null;
  }
  /** The stepup route handlers, as the modal calls them. */
  async function verify(challengeId: string) {
    const api = `/stepup/api/challenges/${challengeId}`;
    keep(
      (
        await stepup.handlers.POST(send(`${api}/start`, { body: { factor: "email" } }))
      ).headers.getSetCookie(),
    );
    const res = await stepup.handlers.POST(
      send(`${api}/verify`, { body: { factor: "email", code: code() } }),
    );
    keep(res.headers.getSetCookie());
    return res;
  }
  return { stepup, jar, login, complete, verify };
}

describe("@stepup/next sign-in second factor", () => {
  it("route handler: 401 step_up_required for session:sign-in; completion once after the factor", async () => {
    const t = await setup();
    const res = await t.login("alice");
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ error: "step_up_required", resource: "session", action: "sign-in" });
    expect(t.jar.has("stepup_signin")).toBe(true);
    expect((await t.verify(body.challengeId ?? "")).status).toBe(200);
    const done = await t.complete();
    expect(await done?.json()).toEqual({ signedIn: "alice" });
    expect(done?.headers.getSetCookie()[0]).toMatch(/^stepup_signin=; .*Max-Age=0/);
    expect(await t.complete()).toBeNull();
  });

  it("a login form gets the challenge page inline (401)", async () => {
    const t = await setup();
    const res = await t.login("alice", "text/html");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("stepUpFetch's retry of the login proceeds (null) once the factor is proved, and clears the cookie", async () => {
    const t = await setup();
    const body = (await (await t.login("alice")).json()) as Record<string, string>;
    await t.verify(body.challengeId ?? "");
    const retried = await t.login("alice");
    expect(await retried.json()).toEqual({ signedIn: "alice" });
    expect(t.jar.has("stepup_signin")).toBe(false); // cleared through cookies()
    expect(await t.complete()).toBeNull();
  });

  it("Server Action: stepUpRequired, then after the factor the same call resolves ok", async () => {
    const t = await setup();
    const first = await t.stepup.beginSignInAction("alice");
    if (first.ok || !("stepUpRequired" in first)) throw new Error(JSON.stringify(first));
    expect(first.stepUpRequired).toMatchObject({ resource: "session", action: "sign-in" });
    expect(t.jar.has("stepup_signin")).toBe(true);
    await t.verify(first.stepUpRequired.challengeId);
    expect(await t.stepup.beginSignInAction("alice")).toEqual({ ok: true });
    expect(t.jar.has("stepup_signin")).toBe(false);
  });

  it("another browser (no cookies) cannot complete it; a user with no factor proceeds at once", async () => {
    const t = await setup();
    const body = (await (await t.login("alice")).json()) as Record<string, string>;
    await t.verify(body.challengeId ?? "");
    const cookies = new Map(t.jar);
    t.jar.clear();
    expect(await t.complete()).toBeNull();
    for (const [k, v] of cookies) t.jar.set(k, v);
    expect((await t.complete())?.status).toBe(200);
    expect(await (await t.login("bob")).json()).toEqual({ signedIn: "bob" });
  });
});
