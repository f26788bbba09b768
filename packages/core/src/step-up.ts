import { createSessions, type FreshnessResult } from "./assurance/sessions.js";
import { type ChallengeTarget, createChallenges } from "./challenge/challenges.js";
import { type ResolvedConfig, resolveConfig, type StepUpOptions } from "./config.js";
import { createFactorManager } from "./factors/manage-factors.js";
import { createKeyring } from "./internal/crypto.js";
import { createEngineContext } from "./internal/engine-context.js";
import { guardedStore } from "./internal/guarded-store.js";
import { keys } from "./internal/records.js";
import { createRuleBook } from "./policy/rules.js";
import type { PolicyDecision, Rule, RuleOptions, StepUpUser } from "./types.js";

/** What the guard learns about a request: a value, never an exception, for expected outcomes. */
export type StepUpDecision =
  | ({ outcome: "allow" } & Extract<FreshnessResult, { fresh: true }>)
  | { outcome: "allow-by-policy" }
  | { outcome: "challenge"; rule: Rule; retryAfter: number }
  | { outcome: "block" };

/**
 * Creates the step-up engine: factors, challenges, assurance records, rules and events, over a
 * `Store`. It speaks no HTTP; `@stepup/http` and the framework adapters sit on top.
 *
 * @throws TypeError at start-up when an option is missing or wrong, naming the option.
 * @example
 * const engine = createStepUp({ store: memoryStore(), secret: process.env.STEPUP_SECRET!, appName: "Acme", factors: [totp()] });
 * const rule = engine.rules.declare("account", "delete", { maxAge: 300 });
 * const decision = await engine.decide(user, sid, rule);
 */
export function createStepUp(options: StepUpOptions) {
  const config: ResolvedConfig = resolveConfig(options);
  const store = guardedStore(config.store, config.storeTimeoutMs);
  const ctx = createEngineContext(config, store, createKeyring(config.secrets));
  const sessions = createSessions(ctx);
  const challenges = createChallenges(ctx, sessions);
  const factors = createFactorManager(ctx);
  const rules = createRuleBook(ctx);

  return Object.freeze({
    config,
    rules,
    challenges,
    factors,
    sessions,
    /** A new random step-up session id (128 bits). */
    newSessionId: () => ctx.newId(),
    now: () => ctx.now(),

    /**
     * The guard's question. When fresh this costs one store round trip; the policy hook and the
     * lock-out read run only when a challenge is due.
     */
    async decide(
      user: StepUpUser,
      sid: string | undefined,
      rule: Rule,
      txn?: string,
      ip?: string,
    ): Promise<StepUpDecision> {
      if (config.policy) {
        const decision: PolicyDecision = await config.policy({ user, rule, ...(ip ? { ip } : {}) });
        if (decision === "BLOCK") return { outcome: "block" };
        if (decision === "ALLOW") return { outcome: "allow-by-policy" };
      }
      const freshness = await sessions.check(user.id, sid, rule, txn);
      if (freshness.fresh) return { outcome: "allow", ...freshness };
      const enrolled = (await factors.list(user.id)).filter((f) => rule.factors.includes(f.type));
      const retryAfter = await challenges.lockedFor(
        user.id,
        enrolled.map((f) => f.id),
      );
      return { outcome: "challenge", rule, retryAfter };
    },

    /** Opens a challenge for a rule, bound to the user and step-up session. */
    openChallenge(user: StepUpUser, sid: string, rule: Rule, target?: ChallengeTarget) {
      return challenges.open(user, sid, rule, target);
    },

    /** Ends one step-up session (logout). */
    revokeSession: sessions.revokeSession,
    /** Ends every step-up of a user on every process (admin reset, password change). */
    revokeUser: sessions.revokeUser,

    /** Whether a user has any factor (adding a second one then needs a fresh step-up). */
    async hasFactors(uid: string): Promise<boolean> {
      return Object.keys(await ctx.store.hashGetAll(uid, keys.factors)).length > 0;
    },

    /** Declares a guard's rule at start-up (merging configured rules and defaults). */
    declareRule(resource: string, action: string, opts?: RuleOptions): Rule {
      return rules.declare(resource, action, opts);
    },
  });
}

/** The engine returned by `createStepUp`. */
export type StepUp = ReturnType<typeof createStepUp>;
