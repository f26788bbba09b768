import { meetsLevel } from "../assurance/find-assurance.js";
import type { Sessions } from "../assurance/sessions.js";
import type { AttemptLimiter } from "../challenge/attempt-limiter.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors } from "../internal/records.js";
import type { Assurance, FactorRecord, Rule, StepUpUser } from "../types.js";
import { waivable } from "./waivable.js";

/** What the guard asks: who, in which step-up session, for which rule (and transaction). */
export interface DecideInput {
  user: StepUpUser;
  /** The step-up session id from the cookie; undefined when there is none. */
  sid: string | undefined;
  rule: Rule;
  /** Transaction digest, for `match: "transaction"` rules. */
  txn?: string | undefined;
  /** Client address (for the policy hook). */
  ip?: string | undefined;
}

/** The guard's answer: a value for every expected outcome, never an exception. */
export type StepUpDecision =
  /** Fresh enough: what was verified, and until when it counts for this rule. */
  | { outcome: "allow"; assurance: Assurance; verifiedAtMs: number; expiresAtMs: number }
  /** The policy hook waived this (waivable) rule's step-up. */
  | { outcome: "waived" }
  /**
   * Not fresh: a challenge for this rule is due. `offer` is what it can offer (read to decide, and
   * handed to `openChallenge` so the challenge path does not read it twice).
   */
  | { outcome: "challenge"; rule: Rule; offer: ChallengeOffer }
  /**
   * Not fresh, and none of the user's factors for this rule can take a guess now: locked for good
   * (`userLocked`, until an unlock), or for `retryAfter` seconds.
   */
  | { outcome: "locked"; rule: Rule; userLocked: boolean; retryAfter: number }
  /** The policy hook refused the action. */
  | { outcome: "block"; rule: Rule };

/** The user's factors a challenge offers now, and whether a lock left only the recovery path. */
export interface ChallengeOffer {
  factors: FactorRecord[];
  userLocked: boolean;
}

/**
 * The factor types that can answer a rule: allowed by it, strong enough for its level, and able
 * to verify the user when it demands that.
 */
export function answeringTypes(ctx: EngineContext, rule: Rule): string[] {
  return rule.factors.filter((t) => {
    const plugin = ctx.config.factors.get(t);
    if (plugin === undefined || !meetsLevel(plugin.level, rule.level)) return false;
    return rule.userVerification !== "required" || plugin.verifiesUser === true;
  });
}

/** The user's enrolled factors of the given types, primary first. */
export async function enrolledOf(
  ctx: EngineContext,
  uid: string,
  types: readonly string[],
): Promise<FactorRecord[]> {
  return parseFactors(await ctx.store.hashGetAll(uid, keys.factors)).filter((f) => types.includes(f.type));
}

export function createDecider(ctx: EngineContext, sessions: Sessions, limiter: AttemptLimiter) {
  const { config } = ctx;

  /**
   * The policy hook and the freshness check only: an answer when the request may pass (or is
   * blocked), undefined when a step-up is due. One store round trip when there is no hook.
   */
  async function settled(input: DecideInput): Promise<StepUpDecision | undefined> {
    const { user, sid, rule, txn, ip } = input;
    if (config.policy) {
      const verdict = await config.policy({ user, rule, ...(ip ? { ip } : {}) });
      if (verdict === "BLOCK") return { outcome: "block", rule };
      // ALLOW never waives stepup's own actions, transaction or phishing-resistant rules.
      if (verdict === "ALLOW" && waivable(rule)) return { outcome: "waived" };
    }
    const freshness = await sessions.check(user.id, sid, rule, txn);
    return freshness.fresh ? { outcome: "allow", ...freshness } : undefined;
  }

  /** What a challenge for `rule` can offer the user now (their factors, less any locked). */
  async function offerFor(
    uid: string,
    rule: Rule,
  ): Promise<{ offer: ChallengeOffer; enrolled: number; retryAfter: number }> {
    const enrolled = await enrolledOf(ctx, uid, answeringTypes(ctx, rule));
    const state = await limiter.state(uid, enrolled);
    return {
      offer: { factors: state.usable, userLocked: state.userLocked },
      enrolled: enrolled.length,
      retryAfter: state.retryAfter,
    };
  }

  /**
   * The guard's question. When fresh this costs one store round trip; the policy hook runs first
   * when configured, and the factor and lock reads only when a challenge is due.
   */
  async function decide(input: DecideInput): Promise<StepUpDecision> {
    const answer = await settled(input);
    if (answer) return answer;
    const { rule } = input;
    const { offer, enrolled, retryAfter } = await offerFor(input.user.id, rule);
    if (enrolled > 0 && offer.factors.length === 0) {
      return { outcome: "locked", rule, userLocked: offer.userLocked, retryAfter };
    }
    return { outcome: "challenge", rule, offer };
  }

  return { decide, settled };
}

export type Decider = ReturnType<typeof createDecider>;
