import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { generateSigningKey, memoryStore, type Store } from "@stepup/core";
import { createDemoApp, type DemoOptions } from "@stepup/example-express";
import request from "supertest";
import { expect } from "vitest";
import { awayFromStepBoundary, codeFor, STEP_MS } from "./totp.js";

export const SESSION_SECRET = "test-session-secret-0123456789abcdef-0123";
export const STEPUP_SECRET = "test-stepup-secret-0123456789abcdef-01234";
export const PASSWORD = "correct horse battery staple";
/** The step-up token key of demo processes a test starts (the Next demo runs under production). */
export const STEPUP_TOKEN_KEY = generateSigningKey();

export type Agent = request.Agent;
export type Res = request.Response;

/** One demo app listening on a loopback port: its origin is both the base URL and the `Origin`. */
export interface Demo {
  readonly origin: string;
  /** A new cookie-keeping client (one browser) that sends `Origin: <origin>` on every request. */
  agent(): Agent;
  close(): Promise<void>;
}

export async function startDemo(
  options: {
    store?: Store;
    maxAge?: number;
    limits?: DemoOptions["limits"];
    /** STEPUP_POLICY and friends, as the server passes them (default: OPTIONAL, like the server). */
    policy?: DemoOptions["policy"];
    clock?: DemoOptions["clock"];
    onEvent?: DemoOptions["onEvent"];
    /** ADMIN_EMAILS, as the server passes them. */
    admins?: DemoOptions["admins"];
  } = {},
): Promise<Demo> {
  const app = createDemoApp({
    store: options.store ?? memoryStore(),
    sessionSecret: SESSION_SECRET,
    stepupSecret: STEPUP_SECRET,
    ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.admins ? { admins: options.admins } : {}),
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    agent: () => request.agent(origin).set("origin", origin),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Builds the demo on `store` and returns a client of it (`agent.demo` holds the server). */
export async function demoAgent(
  store: Store = memoryStore(),
  maxAge?: number,
): Promise<Agent & { demo: Demo }> {
  const demo = await startDemo({ store, ...(maxAge === undefined ? {} : { maxAge }) });
  return Object.assign(demo.agent(), { demo });
}

export const uniqueEmail = (tag = "user") => `${tag}-${crypto.randomUUID().slice(0, 12)}@example.com`;

export async function signUp(agent: Agent, email = uniqueEmail()): Promise<string> {
  const res = await agent.post("/signup").send({ email, password: PASSWORD });
  expect(res.status, res.text).toBe(201);
  return email;
}

export async function logIn(agent: Agent, email: string): Promise<void> {
  const res = await agent.post("/login").send({ email, password: PASSWORD });
  expect(res.status, res.text).toBe(200);
}

/**
 * Enrolls TOTP, confirming with the *previous* step's code, so the current step stays unused for
 * the verification that follows (a step is accepted once per user). Waits out a step boundary first.
 */
export async function enrollTotp(
  agent: Agent,
): Promise<{ factorId: string; secret: string; recoveryCodes: string[] }> {
  await awayFromStepBoundary();
  const started = await agent.post("/stepup/api/factors/totp").send({});
  expect(started.status, started.text).toBe(201);
  const { factorId, secret } = started.body as { factorId: string; secret: string };
  const code = await codeFor(secret, Date.now() - STEP_MS);
  const confirmed = await agent.post(`/stepup/api/factors/totp/${factorId}/confirm`).send({ code });
  expect(confirmed.status, confirmed.text).toBe(200);
  return { factorId, secret, recoveryCodes: (confirmed.body.recoveryCodes as string[] | undefined) ?? [] };
}

/** The current step's code. */
export const currentCode = (secret: string) => codeFor(secret, Date.now());

/** Opens a challenge through the JSON API; the caller gets a step-up cookie if it had none. */
export async function openChallenge(agent: Agent, resource = "data", action = "export"): Promise<string> {
  const res = await agent.post("/stepup/api/challenges").send({ resource, action });
  expect(res.status, res.text).toBe(201);
  return (res.body as { challengeId: string }).challengeId;
}

export function verify(agent: Agent, challengeId: string, code: string): request.Test {
  return agent.post(`/stepup/api/challenges/${challengeId}/verify`).send({ factor: "totp", code });
}

/** Submits a recovery code on a challenge (the demo issues recovery codes with the first factor). */
export async function verifyRecovery(agent: Agent, challengeId: string, code: string): Promise<Res> {
  const opened = await agent.post("/stepup/api/challenges").send({ resource: "data", action: "export" });
  const recovery = (opened.body.factors as { id: string; type: string }[]).find((f) => f.type === "recovery");
  return agent
    .post(`/stepup/api/challenges/${challengeId}/verify`)
    .send({ factor: "recovery", factorId: recovery?.id, code });
}

/** A full step-up for data:export through the JSON API with the current code. */
export async function stepUp(agent: Agent, secret: string): Promise<Res> {
  const res = await verify(agent, await openChallenge(agent), await currentCode(secret));
  expect(res.status, res.text).toBe(200);
  return res;
}

/** Asserts a problem+json response with `status` and `error`, and returns its body. */
export function expectProblem(res: Res, status: number, error: string): Record<string, unknown> {
  expect(res.headers["content-type"], `${res.status} ${res.text}`).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, error: (res.body as { error?: unknown }).error }, res.text).toEqual({
    status,
    error,
  });
  return res.body as Record<string, unknown>;
}

/** The value a response sets for a cookie (`undefined` when it sets none). */
export function setCookie(res: Res | Response, name: string): string | undefined {
  const raw: unknown = res instanceof Response ? res.headers.getSetCookie() : res.headers["set-cookie"];
  const list = (Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : []) as string[];
  const hit = list.find((c) => c.startsWith(`${name}=`));
  return hit?.slice(name.length + 1).split(";")[0];
}

/** Asserts an HTML page's <style>/<script> nonces are the one its CSP allows (else the page renders unstyled). */
export function expectPageNonce(res: Res): void {
  const csp = String(res.headers["content-security-policy"] ?? "");
  const allowed = /style-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
  expect(allowed, csp).toBeDefined();
  const used = [...res.text.matchAll(/<(?:style|script) nonce="([^"]*)"/g)].map((m) => m[1]);
  expect(used.length, "the page has a nonce'd <style>").toBeGreaterThan(0);
  for (const nonce of used) expect(nonce, `page nonce vs CSP ${csp}`).toBe(allowed);
}

const LEAKS: readonly RegExp[] = [
  /\bat \S+ \(?\S+\.(?:ts|js|mjs|cjs):\d+/, // a stack frame
  /\.(?:ts|js):\d+:\d+/,
  /ECONNREFUSED|ECONNRESET|ioredis|Stream isn't writeable|NOSCRIPT|MaxRetriesPerRequest/i,
  /node_modules|\/work\//,
];

/** Asserts a body leaks no stack trace, driver error, path or the given secrets. */
export function expectNoLeak(body: string, secrets: readonly string[] = []): void {
  for (const pattern of LEAKS) expect(body, `body matched ${pattern}`).not.toMatch(pattern);
  for (const s of secrets) expect(body.includes(s), "body contains a secret").toBe(false);
}

/** Polls `probe` every `intervalMs` until it returns a value or `timeoutMs` passes (then throws). */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
