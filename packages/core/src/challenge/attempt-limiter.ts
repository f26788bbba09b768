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
      if (f.count >= perFactor.max) {
        // Remember when this factor's lock ends, so the guard can give an exact Retry-After
        // without an extra TTL read (counters only reveal their TTL when incremented).
        const until = ctx.now() + f.ttlSeconds * 1000;
        await store.set(uid, keys.lockedFactor(factorId), String(until), f.ttlSeconds);
      }
      const retryAfter = Math.max(...over);
      if (retryAfter > 0) return { allowed: false, retryAfter };
      const remaining = Math.min(
        perChallenge - c.count,
        perFactor.max - f.count,
        i ? perIp.max - i.count : Infinity,
      );
      return { allowed: true, remaining };
    },

    /** Seconds until one of the listed factors can be used again; 0 when one is usable now. */
    async lockedFor(uid: string, factorIds: readonly string[]): Promise<number> {
      if (factorIds.length === 0) return 0;
      const ends = (await store.getMany(uid, factorIds.map(keys.lockedFactor))).map((raw) =>
        Number(raw ?? 0),
      );
      const soonest = Math.min(...ends);
      const now = ctx.now();
      return soonest > now ? Math.ceil((soonest - now) / 1000) : 0;
    },

    /** After a success: the legitimate user gets their budget back (the IP counter stays). */
    async reset(uid: string, challengeId: string, factorId: string): Promise<void> {
      await store.delete(uid, [
        keys.attemptsChallenge(challengeId),
        keys.attemptsFactor(factorId),
        keys.lockedFactor(factorId),
      ]);
    },
  };
}
