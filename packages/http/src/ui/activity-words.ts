import type { AuditEntry, StepUpEventType } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import type { ConsoleActivity } from "../pages/index.js";

/** What a sentence may read from an entry: its fields and the factor's type in words. */
interface Said {
  entry: AuditEntry;
  /** The factor's `ui.title` ("Authenticator app"); undefined when the entry names none or an unknown type. */
  title: string | undefined;
}

type Words = (said: Said) => string | null;

const withTitle = (prefix: string, fallback: string) => (s: Said) =>
  s.title ? `${prefix}${s.title}` : fallback;
const titled = (suffix: string, fallback: string) => (s: Said) =>
  s.title ? `${s.title} ${suffix}` : fallback;

/** The factor type an entry names, if its type has one. */
const factorOf = (entry: AuditEntry): string | undefined =>
  "factor" in entry && typeof entry.factor === "string" ? entry.factor : undefined;

/** Refusals that are a lock, not a wrong answer (the budget's error codes). */
const LOCKED = new Set(["CHALLENGE_EXHAUSTED", "TOO_MANY_ATTEMPTS", "USER_LOCKED", "RATE_LIMITED"]);

/**
 * Every event type in plain words, in one table so the console and any later view say the same
 * thing. Keyed by the engine's own union: a new event type fails the type check here until it is
 * given words (or a deliberate `null`, which hides it from the console).
 *
 * Hidden (`null`), because they are noise next to what the user did or should worry about:
 * `challenge.opened` (every guarded request that needs a step-up opens one; the answer is what
 * matters), a log-only `policy.decision` (nothing happened to the user), `token.issued` (a
 * single-page app may mint one per call; the step-up behind it is already listed) and `track`
 * (the app's own actions: the app shows those its own way).
 */
const WORDS: Record<StepUpEventType, Words | null> = {
  "factor.enrolled": titled("added", "Method added"),
  "factor.removed": titled("removed", "Method removed"),
  "factor.updated": titled("changed (renamed or made primary)", "Method changed"),
  "challenge.opened": null,
  "verification.succeeded": withTitle("Verified with a second factor: ", "Verified with a second factor"),
  // A passkey has no code to get wrong: only code factors say "code".
  "verification.failed": (s) => {
    const reason = s.entry.metadata?.reason;
    if (reason === "REPLAYED") return "A code was used twice: refused";
    if (typeof reason === "string" && LOCKED.has(reason)) return "Too many wrong codes: verification locked";
    return factorOf(s.entry) === "webauthn" ? "Passkey verification failed" : "Wrong code entered";
  },
  lockout: () => "Too many wrong codes in a row: two-step verification locked",
  "user.unlocked": () => "Two-step verification unlocked",
  "recovery.used": () => "Recovery code used",
  "recovery.regenerated": () => "New recovery codes issued: the old ones stopped working",
  "webauthn.counter_regressed": () => "A passkey looked copied (its counter went back)",
  "session.revoked": () => "Step-up ended",
  "user.revoked": () => "Every step-up ended",
  "device.trusted": () => "Device remembered",
  // Without a device id the event is "Forget all".
  "device.revoked": (s) => (s.entry.metadata?.deviceId ? "Device forgotten" : "Every device forgotten"),
  "credential.changed": () => "Password changed: every step-up ended",
  "policy.decision": (s) =>
    s.entry.metadata?.mode === "log-only" ? null : "Unusual request: an extra check was asked",
  "signin.completed": withTitle("Signed in with a second factor: ", "Signed in with a second factor"),
  "token.issued": null,
  "user.reset": () => "Two-step verification reset by an administrator",
  track: null,
};

/** The console's generic words for a type it does not know (an event newer than this table). */
export const UNKNOWN_EVENT = "Security event";

/** An entry in plain words; null for the types the console hides. */
export function activityWords(entry: AuditEntry, title: string | undefined): string | null {
  // Own keys only: a stored type such as "toString" must not reach Object.prototype.
  const words = Object.hasOwn(WORDS, entry.type) ? WORDS[entry.type as StepUpEventType] : undefined;
  if (words === null) return null;
  return words ? words({ entry, title }) : UNKNOWN_EVENT;
}

/** How many entries the console shows. */
export const CONSOLE_ACTIVITY = 10;

/**
 * The user's newest entries worth showing, in words. Reads the whole bounded log (200 at most):
 * hidden types would otherwise crowd the ten out.
 */
export async function recentActivity(http: HttpContext, uid: string): Promise<ConsoleActivity[]> {
  const entries = await http.engine.audit.list(uid, Number.MAX_SAFE_INTEGER);
  const shown: ConsoleActivity[] = [];
  for (const entry of entries) {
    const factor = factorOf(entry);
    const title = factor ? http.engine.config.factors.get(factor)?.ui.title : undefined;
    const text = activityWords(entry, title);
    if (text === null) continue;
    shown.push({ text, at: entry.at, ...(entry.ip ? { ip: entry.ip } : {}) });
    if (shown.length === CONSOLE_ACTIVITY) break;
  }
  return shown;
}
