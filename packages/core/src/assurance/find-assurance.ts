import type { Assurance, AssuranceLevel, Rule, SessionRecord } from "../types.js";

const RANK: Record<AssuranceLevel, number> = { mfa: 1, "phishing-resistant": 2 };

/** Whether `level` meets `required`. */
export function meetsLevel(level: AssuranceLevel, required: AssuranceLevel): boolean {
  return RANK[level] >= RANK[required];
}

/** How far ahead of our clock an assurance may be dated and still count (another process's clock). */
export const FUTURE_SKEW_MS = 60_000;

/**
 * The newest assurance in a session that satisfies a rule at `nowMs`, or undefined. Pure: the
 * caller has already read the session and the user's revocation mark in one round trip.
 * An assurance at or before `revokedBeforeMs` is dead (logout everywhere, admin reset).
 */
export function findAssurance(
  session: SessionRecord,
  rule: Pick<Rule, "maxAge" | "level" | "factors" | "match" | "resource" | "action" | "userVerification">,
  nowMs: number,
  revokedBeforeMs: number,
  txn?: string,
): Assurance | undefined {
  const oldest = nowMs - rule.maxAge * 1000;
  let best: Assurance | undefined;
  for (const a of session.assurances) {
    if (a.atMs <= revokedBeforeMs || a.atMs < oldest || a.atMs > nowMs + FUTURE_SKEW_MS) continue;
    if (!meetsLevel(a.level, rule.level) || !rule.factors.includes(a.factor)) continue;
    // The UV flag is checked against the assurance, not only when it was made: a presence-only
    // passkey tap for one rule must not later satisfy a rule that demands user verification.
    if (rule.userVerification === "required" && a.userVerified !== true) continue;
    if (rule.match !== "session" && (a.resource !== rule.resource || a.action !== rule.action)) continue;
    if (rule.match === "transaction" && (txn === undefined || a.txn !== txn)) continue;
    if (!best || a.atMs > best.atMs) best = a;
  }
  return best;
}
