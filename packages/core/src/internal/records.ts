import type { Challenge, FactorRecord, FactorSummary, SessionRecord } from "../types.js";

/** Store keys, all inside the user's scope (one hash slot per user on Redis Cluster). */
export const keys = {
  session: (sid: string) => `session:${sid}`,
  revoked: "revoked",
  challenge: (id: string) => `challenge:${id}`,
  enrollment: (factorId: string) => `enroll:${factorId}`,
  factors: "factors",
  attemptsChallenge: (id: string) => `attempts:challenge:${id}`,
  attemptsFactor: (factorId: string) => `attempts:factor:${factorId}`,
  attemptsIp: "attempts",
  lockedFactor: (factorId: string) => `locked:factor:${factorId}`,
  txnGrant: (familyId: string, digest: string) => `txn:${familyId}:${digest}`,
} as const;

/** Scope of per-client counters (kept apart from user scopes). */
export const ipScope = (ip: string) => `ip:${ip}`;

/** Parses a stored JSON record; a corrupt one reads as absent rather than crashing a request. */
export function parseRecord<T>(raw: string | null | undefined): T | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

export function parseSession(raw: string | null | undefined, uid: string): SessionRecord | undefined {
  const s = parseRecord<SessionRecord>(raw);
  return s && s.uid === uid && Array.isArray(s.assurances) ? s : undefined;
}

export function parseChallenge(raw: string | null | undefined, uid: string): Challenge | undefined {
  const c = parseRecord<Challenge>(raw);
  return c && c.uid === uid ? c : undefined;
}

/** Factor records of a user, primary first, then oldest first. */
export function parseFactors(hash: Record<string, string>): FactorRecord[] {
  const list: FactorRecord[] = [];
  for (const raw of Object.values(hash)) {
    const f = parseRecord<FactorRecord>(raw);
    if (f && typeof f.id === "string" && typeof f.type === "string") list.push(f);
  }
  return list.sort((a, b) => Number(b.primary) - Number(a.primary) || a.createdAtMs - b.createdAtMs);
}

export function summarize(f: FactorRecord): FactorSummary {
  return {
    id: f.id,
    type: f.type,
    name: f.name,
    createdAt: new Date(f.createdAtMs).toISOString(),
    lastUsedAt: f.lastUsedAtMs === null ? null : new Date(f.lastUsedAtMs).toISOString(),
    primary: f.primary,
  };
}
