import type { AuditEntry, StepUpEventType } from "@stepup/core";
import type { HttpContext } from "../http-context.js";
import type { ConsoleActivity } from "../pages/index.js";

/** What a sentence may read from an entry: its fields and the factor's type in words. */
interface Said {
  entry: AuditEntry;
  /** The factor's `ui.title` ("Authenticator app"); undefined when the entry names none or an unknown type. */
  title: string | undefined;
}

type Words = (said: Said) => string;

const withTitle = (prefix: string, fallback: string) => (s: Said) =>
  s.title ? `${prefix}${s.title}` : fallback;
const titled = (suffix: string, fallback: string) => (s: Said) =>
  s.title ? `${s.title} ${suffix}` : fallback;

/**
 * Every event type in plain words, in one table so the console and any later view say the same
 * thing. Keyed by the engine's own union: a new event type fails the type check here until it is
 * given words (or a deliberate `null`, which hides it from the console).
 *
 * Hidden (`null`), because they are noise next to what the user did or should worry about:
 * `challenge.created` (every guarded request that needs a step-up opens one; the answer is what
 * matters), `factor.enrollment.started` (only `factor.enrolled` changes anything),
 * `policy.would_challenge` (log-only mode: nothing happened to the user) and `token.issued`
 * (a single-page app may mint one per call; the step-up behind it is already listed).
 */
const WORDS: Record<StepUpEventType, Words | null> = {
  "factor.enrollment.started": null,
  "factor.enrolled": titled("added", "Method added"),
  "factor.removed": titled("removed", "Method removed"),
  "factor.updated": titled("changed (renamed or made primary)", "Method changed"),
  "challenge.created": null,
  "verification.succeeded": withTitle("Verified with a second factor: ", "Verified with a second factor"),
  // A passkey has no code to get wrong: only code factors say "code".
  "verification.failed": (s) =>
    s.entry.metadata?.reason === "REPLAYED"
      ? "A code was used twice: refused"
      : s.entry.factor === "webauthn"
        ? "Passkey verification failed"
        : "Wrong code entered",
  "verification.locked": () => "Too many wrong codes: verification locked",
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
  "policy.would_challenge": null,
  "policy.decision": () => "Unusual request: an extra check was asked",
  "signin.completed": withTitle("Signed in with a second factor: ", "Signed in with a second factor"),
  "token.issued": null,
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
    const title = entry.factor ? http.engine.config.factors.get(entry.factor)?.ui.title : undefined;
    const text = activityWords(entry, title);
    if (text === null) continue;
    shown.push({ text, at: entry.at, ...(entry.ip ? { ip: entry.ip } : {}) });
    if (shown.length === CONSOLE_ACTIVITY) break;
  }
  return shown;
}
