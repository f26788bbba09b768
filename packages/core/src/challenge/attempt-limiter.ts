import type { EngineContext } from "../internal/engine-context.js";
import { ipScope, keys } from "../internal/records.js";

/** Whether one more guess may be evaluated, and how many are left. */
export type AttemptBudget = { allowed: true; remaining: number } | { allowed: false; retryAfter: number };

/**
 * Bounded guessing: per challenge, per user and factor (across challenges), and per client address
 * (across users). Each attempt increments all three counters atomically *before* the proof is
 * evaluated, so a burst of concurrent guesses is counted in full and only the first `max` are
 * evaluated; the rest are refused without touching the factor.
 */
export function createAttemptLimiter(ctx: EngineContext) {
  const { store, config } = ctx;
  const { perChallenge, perFactor, perIp } = config.limits;

  return {
    async spend(uid: string, challengeId: string, factorId: string, ip?: string): Promise<AttemptBudget> {
      const [c, f, i] = await Promise.all([
        store.increment(uid, keys.attemptsChallenge(challengeId), config.challengeTtl),
        store.increment(uid, keys.attemptsFactor(factorId), perFactor.windowSeconds),
        ip ? store.increment(ipScope(ip), keys.attemptsIp, perIp.windowSeconds) : undefined,
      ]);
      const over = [
        c.count > perChallenge ? c.ttlSeconds : 0,
        f.count > perFactor.max ? f.ttlSeconds : 0,
        i && i.count > perIp.max ? i.ttlSeconds : 0,
      ];
      const retryAfter = Math.max(...over);
      if (retryAfter > 0) return { allowed: false, retryAfter };
      const remaining = Math.min(
        perChallenge - c.count,
        perFactor.max - f.count,
        i ? perIp.max - i.count : Infinity,
      );
      return { allowed: true, remaining };
    },

    /** Whether the user is locked out of every listed factor; the seconds until one reopens. */
    async lockedFor(uid: string, factorIds: readonly string[]): Promise<number> {
      if (factorIds.length === 0) return 0;
      const counts = await store.getMany(uid, factorIds.map(keys.attemptsFactor));
      const locked = counts.every((raw) => Number(raw ?? 0) >= perFactor.max);
      return locked ? perFactor.windowSeconds : 0;
    },

    /** After a success: the legitimate user gets their budget back (the IP counter stays). */
    async reset(uid: string, challengeId: string, factorId: string): Promise<void> {
      await store.delete(uid, [keys.attemptsChallenge(challengeId), keys.attemptsFactor(factorId)]);
    },
  };
}
