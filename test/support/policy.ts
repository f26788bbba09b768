// Helpers for the policy tests: one user of a demo (either demo, in process or not) driven through
// its HTTP contract with the fetch-based Browser (one cookie jar per browser).
import { expect } from "vitest";
import { PASSWORD, uniqueEmail } from "./demo.js";
import { navigate } from "./navigate.js";
import { Browser } from "./process.js";

import { awayFromStepBoundary, codeFor, STEP_MS } from "./totp.js";

type Reply = Awaited<ReturnType<Browser["request"]>>;

/** A demo user: their email, and their TOTP secret and recovery codes once they added TOTP. */
export interface Account {
  email: string;
  password: string;
  secret?: string;
  recoveryCodes: string[];
  /** Whether the current TOTP step was spent (a step is accepted once per user). */
  spentStep?: number;
}

/** Signs up in `b` (which is then signed in). */
export async function signUp(b: Browser, origin: string, tag = "policy"): Promise<Account> {
  const email = uniqueEmail(tag);
  const res = await b.post(origin, "/signup", { email, password: PASSWORD });
  expect(res.status, res.text).toBe(201);
  return { email, password: PASSWORD, recoveryCodes: [] };
}

export function logIn(b: Browser, origin: string, account: Account): Promise<Reply> {
  return b.post(origin, "/login", { email: account.email, password: account.password });
}

/** Adds TOTP (confirmed with the previous step's code, so the current one stays unused). */
export async function addTotp(b: Browser, origin: string, account: Account): Promise<Account> {
  await awayFromStepBoundary();
  const started = await b.post(origin, "/stepup/api/factors/totp");
  expect(started.status, started.text).toBe(201);
  const { factorId, secret } = started.json as { factorId: string; secret: string };
  const code = await codeFor(secret, Date.now() - STEP_MS);
  const confirmed = await b.post(origin, `/stepup/api/factors/totp/${factorId}/confirm`, { code });
  expect(confirmed.status, confirmed.text).toBe(200);
  account.secret = secret;
  account.recoveryCodes = (confirmed.json.recoveryCodes as string[] | undefined) ?? [];
  return account;
}

/** A signed-up user with TOTP, in a browser of their own. */
export async function userWithTotp(
  origin: string,
  tag = "policy",
): Promise<{ b: Browser; account: Account }> {
  const b = new Browser();
  const account = await addTotp(b, origin, await signUp(b, origin, tag));
  return { b, account };
}

/** A guarded request's answer, which must be a 401 step_up_required; its body. */
export function challengeOf(res: Reply, what = ""): Record<string, unknown> {
  expect(res.status, `${what} ${res.text}`).toBe(401);
  expect(res.json.error, `${what} ${res.text}`).toBe("step_up_required");
  expect(typeof res.json.challengeId).toBe("string");
  return res.json;
}

/**
 * Verifies an open challenge: with TOTP's current code the first time in a step, then with a
 * recovery code (a TOTP step is accepted once per user). `extra` goes into the body
 * (`{ rememberDevice: true }`).
 */
export async function verify(
  b: Browser,
  origin: string,
  challenge: Record<string, unknown>,
  account: Account,
  extra: Record<string, unknown> = {},
): Promise<Reply> {
  const id = String(challenge.challengeId);
  const step = Math.floor(Date.now() / STEP_MS);
  let body: Record<string, unknown>;
  if (account.secret && account.spentStep !== step) {
    account.spentStep = step;
    body = { factor: "totp", code: await codeFor(account.secret, Date.now()) };
  } else {
    const factors = (challenge.factors as { id: string; type: string }[] | undefined) ?? [];
    const recovery = factors.find((f) => f.type === "recovery");
    const code = account.recoveryCodes.shift();
    expect(recovery && code, "a recovery code to verify with").toBeTruthy();
    body = { factor: "recovery", factorId: recovery?.id, code };
  }
  const res = await b.post(origin, `/stepup/api/challenges/${id}/verify`, { ...body, ...extra });
  expect(res.status, res.text).toBe(200);
  return res;
}

/** GETs a guarded path, which must challenge, and verifies that challenge. */
export async function stepUpAt(
  b: Browser,
  origin: string,
  path: string,
  account: Account,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await verify(b, origin, challengeOf(await b.get(origin, path), path), account, extra);
}

/** The device cookie's name in the jar (`stepup_device`, maybe with a `__Host-` prefix). */
export function deviceCookieName(b: Browser): string | undefined {
  return [...b.jar.keys()].find((k) => /(^|-)stepup_device$/.test(k));
}

/** Whether `b` is signed in to the demo (its home page shows the signed-in view). */
export async function signedIn(b: Browser, origin: string): Promise<boolean> {
  const home = await navigate(b, origin, "/");
  return home.text.includes("Signed in as");
}

export type { Reply };
export { navigate };
