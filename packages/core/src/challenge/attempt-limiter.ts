import { StepUpError, userLocked } from "../errors.js";
import { clientGroup } from "../internal/client-address.js";
import type { EngineContext } from "../internal/engine-context.js";
import { ipScope, keys } from "../internal/keys.js";
import type { FactorRecord } from "../types.js";

/** Whether one more guess may be evaluated; when it may, what it counted. */
export type AttemptBudget =
  | { allowed: true; remaining: number; failures: number }
  | { allowed: false; error: StepUpError };

/** Which of a user's factors can take a guess now, and when the others can again. */
export interface LockState {
  /** The user passed the consecutive-failure cap: only a recovery path or `unlockUser` ends it. */
  userLocked: boolean;
  /** Factors that may be tried now. */
  usable: FactorRecord[];
  /** Seconds until a factor that is not usable now becomes usable; 0 when unknown or never. */
  retryAfter: number;
}

/** The consecutive-failure counter outlives any campaign: only a success (or an unlock) resets it. */
const FAILURES_TTL_SECONDS = 365 * 86_400;

const tooMany = (retryAfter: number) =>
  new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Try again later.", { retryAfter });

/**
 * Bounded guessing, in the order that keeps each budget its owner's:
 * 1. per client address (all users): an address over its limit is refused before any counter of
 *    the user moves, so an attacker's address can never lock the user out from another one;
 * 2. the user's hard lock and a running delay, only read (recovery paths are exempt: they are how
 *    a locked user gets back in, and an 80-bit code is not worth guessing);
 * 3. per challenge: once spent, the challenge is dead and a new one starts fresh; then, past
 *    `delayAfter` failures, the growing-delay slot (one evaluated attempt per delay);
 * 4. per user and factor, in a fixed window;
 * 5. consecutive failures per user across all factors (NIST SP 800-63B: at most 100), reset only
 *    by a success: the one that reaches the cap and fails locks the user for good.
 * Every counter is incremented atomically *before* the proof is evaluated, so N concurrent guesses
 * count N times; each stage only spends the next budget when it let the attempt through.
 */
export function createAttemptLimiter(ctx: EngineContext) {
  const { store, config } = ctx;
  const { perChallenge, perFactor, perIp, lockout } = config.limits;

  /** Seconds the next attempt must wait after `failures` consecutive failures. */
  function delayAfter(failures: number): number {
    if (failures < lockout.delayAfter) return 0;
    return Math.min(2 ** Math.min(30, failures - lockout.delayAfter + 1), lockout.maxDelaySeconds);
  }

  /** The user's hard lock or a running delay, read without spending anything. */
  async function blocked(uid: string): Promise<{ refused?: StepUpError; failures: number }> {
    const [locked, rawFailures, rawUntil] = await store.getMany(uid, [
      keys.locked,
      keys.failures,
      keys.throttle,
    ]);
    if (locked !== null) return { refused: userLocked(), failures: 0 };
    const now = ctx.now();
    const until = Number(rawUntil ?? 0);
    if (until > now) return { refused: tooMany(Math.ceil((until - now) / 1000)), failures: 0 };
    return { failures: Number(rawFailures ?? 0) };
  }

  /**
   * Past `delayAfter` failures, each attempt claims the delay slot that the next one must wait
   * out (sized for the count this attempt reaches if it fails). The claim is atomic: of a burst,
   * one attempt is evaluated and the others are refused.
   */
  async function claimDelay(uid: string, failures: number): Promise<StepUpError | undefined> {
    // The attempt that can reach the cap needs no delay after it: the next one is locked anyway.
    if (failures + 1 >= lockout.maxFailures) return undefined;
    const delay = delayAfter(failures + 1);
    if (delay === 0) return undefined;
    const now = ctx.now();
    const untilMs = now + delay * 1000;
    if (await store.setIfAbsent(uid, keys.throttle, String(untilMs), delay)) return undefined;
    const [held] = await store.getMany(uid, [keys.throttle]);
    return tooMany(Math.max(1, Math.ceil((Number(held ?? untilMs) - now) / 1000)));
  }

  return {
    async spend(
      uid: string,
      challengeId: string,
      factor: { id: string; recovery: boolean },
      ip?: string,
    ): Promise<AttemptBudget> {
      if (ip) {
        const i = await store.increment(ipScope(clientGroup(ip)), keys.attemptsIp, perIp.windowSeconds);
        if (i.count > perIp.max) return { allowed: false, error: tooMany(i.ttlSeconds) };
      }
      // Recovery paths skip the lock and the delays (see above); every other factor is checked here.
      const state = factor.recovery ? { failures: 0 } : await blocked(uid);
      if (state.refused) return { allowed: false, error: state.refused };
      const c = await store.increment(uid, keys.attemptsChallenge(challengeId), config.challengeTtl);
      if (c.count > perChallenge) return { allowed: false, error: challengeExhausted() };
      if (!factor.recovery) {
        const refused = await claimDelay(uid, state.failures);
        if (refused) return { allowed: false, error: refused };
      }
      const f = await store.increment(uid, keys.attemptsFactor(factor.id), perFactor.windowSeconds);
      if (f.count >= perFactor.max) {
        // Remember when this factor's window ends, so the guard can give an exact Retry-After
        // without an extra TTL read (counters only reveal their TTL when incremented).
        const until = ctx.now() + f.ttlSeconds * 1000;
        await store.set(uid, keys.lockedFactor(factor.id), String(until), f.ttlSeconds);
      }
      if (f.count > perFactor.max) return { allowed: false, error: tooMany(f.ttlSeconds) };
      const n = await store.increment(uid, keys.failures, FAILURES_TTL_SECONDS);
      if (n.count > lockout.maxFailures && !factor.recovery) return { allowed: false, error: userLocked() };
      const remaining = Math.min(perChallenge - c.count, perFactor.max - f.count);
      return { allowed: true, remaining, failures: n.count };
    },

    /**
     * After a failed evaluation: the attempt that reached the cap locks the user (durably, until
     * `unlock` or a recovery success). Only that one attempt can see exactly the cap, so the lock
     * and its event happen once.
     * @returns whether this failure locked the user
     */
    async failed(uid: string, failures: number): Promise<boolean> {
      if (failures !== lockout.maxFailures) return false;
      await store.set(uid, keys.locked, String(ctx.now()), null);
      return true;
    },

    /** Which factors can be tried now (the guard and challenge pages offer only those). */
    async state(uid: string, factors: readonly FactorRecord[]): Promise<LockState> {
      if (factors.length === 0) return { userLocked: false, usable: [], retryAfter: 0 };
      const [locked, ...ends] = await store.getMany(uid, [
        keys.locked,
        ...factors.map((f) => keys.lockedFactor(f.id)),
      ]);
      const now = ctx.now();
      const hardLocked = locked !== null;
      const isRecovery = (f: FactorRecord) => config.factors.get(f.type)?.recovery === true;
      let soonest = Number.POSITIVE_INFINITY;
      const usable = factors.filter((f, i) => {
        const end = Number(ends[i] ?? 0);
        if (end > now) {
          soonest = Math.min(soonest, end);
          return false;
        }
        return !hardLocked || isRecovery(f);
      });
      const retryAfter = Number.isFinite(soonest) ? Math.ceil((soonest - now) / 1000) : 0;
      return { userLocked: hardLocked, usable, retryAfter };
    },

    /** After a success: the user gets their budgets back and any lock ends (the IP counter stays). */
    async reset(uid: string, challengeId: string, factorId: string): Promise<void> {
      await store.delete(uid, [
        keys.attemptsChallenge(challengeId),
        keys.attemptsFactor(factorId),
        keys.lockedFactor(factorId),
        keys.failures,
        keys.throttle,
        keys.locked,
      ]);
    },

    /** An administrator's unlock: the hard lock, the delay and the failure count end. */
    async unlock(uid: string, factorIds: readonly string[]): Promise<void> {
      await store.delete(uid, [
        keys.locked,
        keys.failures,
        keys.throttle,
        ...factorIds.flatMap((id) => [keys.attemptsFactor(id), keys.lockedFactor(id)]),
      ]);
    },
  };
}

export type AttemptLimiter = ReturnType<typeof createAttemptLimiter>;

function challengeExhausted(): StepUpError {
  return new StepUpError(
    "CHALLENGE_EXHAUSTED",
    "Too many wrong codes for this request. Start again to get a new one.",
  );
}
