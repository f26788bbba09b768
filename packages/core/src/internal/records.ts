import type { FactorPlugin } from "../factors/factor.js";
import type { Challenge, FactorRecord, FactorSummary, OfferedFactor, SessionRecord } from "../types.js";

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

/** A factor as a challenge offers it: with its plugin's prompt, so any client can render it. */
export function offer(f: FactorRecord, plugin: FactorPlugin | undefined): OfferedFactor {
  const destination = plugin?.describe?.(f).destination;
  return {
    id: f.id,
    type: f.type,
    name: f.name,
    primary: f.primary,
    title: plugin?.ui.title ?? f.type,
    // A factor whose plugin is gone is not offered by the engine; a bare code prompt is the safe shape.
    prompt: plugin?.ui.prompt ?? { kind: "code", label: "Code" },
    ...(destination === undefined ? {} : { destination }),
    ...(plugin?.recovery ? { recovery: true as const } : {}),
  };
}
