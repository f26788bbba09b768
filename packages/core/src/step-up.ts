import { createAdmin } from "./admin/admin.js";
import { createSessions } from "./assurance/sessions.js";
import { createAuditLog } from "./audit/audit-log.js";
import { createTrack } from "./audit/track.js";
import { createAttemptLimiter } from "./challenge/attempt-limiter.js";
import { type ChallengeTarget, createChallenges } from "./challenge/challenges.js";
import { type ResolvedConfig, resolveConfig, type StepUpOptions } from "./config.js";
import { createDevices } from "./devices/devices.js";
import { createFactorManager } from "./factors/manage-factors.js";
import { createKeyring } from "./internal/crypto.js";
import { createEngineContext } from "./internal/engine-context.js";
import { guardedStore } from "./internal/guarded-store.js";
import { keys } from "./internal/keys.js";
import { offer, parseFactors } from "./internal/records.js";
import { type ChallengeOffer, createDecider } from "./policy/decide.js";
import { createOwnActions } from "./policy/own-actions.js";
import { createRuleBook } from "./policy/rules.js";
import { createSignIn } from "./signin/sign-in.js";
import { createTokens } from "./token/tokens.js";
import type { FactorRecord, OfferedFactor, Rule, RuleOptions, StepUpUser } from "./types.js";
import { createWebhooks } from "./webhooks/outbox.js";

export type { ChallengeOffer, DecideInput, StepUpDecision, WaiveReason } from "./policy/decide.js";

/**
 * Creates the step-up engine: factors, challenges, assurance records, rules and events, over a
 * `Store`. It speaks no HTTP; `@stepup/http` and the framework adapters sit on top.
 *
 * @throws TypeError at start-up when an option is missing or wrong, naming the option.
 * @example
 * const engine = createStepUp({ store: memoryStore(), secret: process.env.STEPUP_SECRET!, appName: "Acme", factors: [totp()] });
 * const rule = engine.declareRule("account", "delete", { maxAge: 300 });
 * const decision = await engine.decide({ user, sid, rule });
 */
export function createStepUp(options: StepUpOptions) {
  const config: ResolvedConfig = resolveConfig(options);
  const store = guardedStore(config.store, config.storeTimeoutMs);
  const ctx = createEngineContext(config, store, createKeyring(config.secrets));
  const sessions = createSessions(ctx);
  const limiter = createAttemptLimiter(ctx);
  const devices = createDevices(ctx);
  const challenges = createChallenges(ctx, sessions, limiter, devices);
  const rules = createRuleBook(ctx);
  const decider = createDecider(ctx, sessions, limiter, devices);
  const own = createOwnActions(rules, decider);
  const factors = createFactorManager(ctx, own);
  const signIn = createSignIn(ctx, rules, decider, sessions, challenges);
  const admin = createAdmin(ctx, { sessions, devices, limiter });
  const tokens = createTokens(ctx, sessions, config.tokens);
  const audit = createAuditLog(ctx);
  ctx.recorders.push((event) => audit.append(event));
  const webhooks = config.webhooks ? createWebhooks(ctx, config.webhooks) : undefined;
  if (webhooks) {
    ctx.recorders.push((event, emitted) => webhooks.record(event, emitted.webhook ?? event.type !== "track"));
    webhooks.start();
  }
  const track = createTrack(ctx);

  return Object.freeze({
    config,
    rules,
    challenges,
    factors,
    sessions,
    /** The rules of stepup's own actions (`stepup:factor.add`, `stepup:factor.remove`, `stepup:recovery.regenerate`, `stepup:admin`). */
    ownRules: own.rules,
    /** A new random step-up session id (128 bits). */
    newSessionId: () => ctx.newId(),
    now: () => ctx.now(),
    decide: decider.decide,
    /**
     * `decide`, answered synchronously when it can be (no policy hook, the store's cache holds the
     * session): a decision or a promise of one. For adapters' hot path; `await` it either way.
     */
    decideNow: decider.decideNow,

    /**
     * Opens a challenge for a rule, bound to the user and step-up session. `offer` is the one a
     * `challenge` decision carries (saves reading the user's factors and locks again).
     * @throws StepUpError PAYLOAD_TOO_LARGE for a form over 16 KiB
     */
    openChallenge(
      user: StepUpUser,
      sid: string,
      rule: Rule,
      target?: ChallengeTarget,
      offer?: ChallengeOffer,
    ) {
      return challenges.open(user, sid, rule, target, offer);
    },

    /** Ends one step-up session (logout). */
    revokeSession: sessions.revokeSession,

    /** Ends every step-up of a user and forgets their trusted devices, on every process at once. */
    async revokeUser(uid: string): Promise<void> {
      await sessions.revokeUser(uid);
      await devices.revokeAll(uid);
    },

    /**
     * The user's password (or another credential) changed: every assurance and trusted device ends
     * at once on every process, and the `afterCredentialChange` trigger fires until they verify again.
     */
    async markCredentialChange(uid: string): Promise<void> {
      await sessions.revokeUser(uid);
      await devices.revokeAll(uid);
      await ctx.store.hashSet(uid, keys.risk, "cred", String(ctx.now()));
      await ctx.emit({ type: "credential.changed", userId: uid });
    },

    /** Trusted devices: list and revoke ("remember this device"). */
    devices: Object.freeze({ list: devices.list, revoke: devices.revoke, revokeAll: devices.revokeAll }),

    /** The sign-in second factor: `begin` after the app's password check, `complete` once after it. */
    signIn,

    /** An administrator's tools for one user: `status`, `reset`, `revoke`, `unlock` (no authorization: the caller's). */
    admin,

    /** The user's audit log: their newest entries, newest first. */
    audit: Object.freeze({ list: audit.list }),

    /** Checks a user's audit chain: the first edited or missing entry, if any. */
    verifyAuditChain: audit.verify,

    /**
     * Records the app's own sensitive action for a user, like stepup's own events: in the audit
     * log, and to webhooks with `{ webhook: true }`. Resolves once it is stored.
     * @throws TypeError for a bad tag, severity, status or metadata
     */
    track,

    /**
     * Webhook delivery (with the `webhooks` option): `deliverDue()` for your own scheduler,
     * `status()` and `enable(url)` for an endpoint disabled by a 410. Undefined without the option.
     */
    webhooks: webhooks
      ? Object.freeze({ deliverDue: webhooks.deliverDue, status: webhooks.status, enable: webhooks.enable })
      : undefined,

    /** Stops background work (the webhook worker) and waits for what is in flight. */
    async close(): Promise<void> {
      await webhooks?.close();
    },

    /** Step-up tokens: `mint` when fresh, `accept` a bearer for a guard, `jwks` for other services. */
    tokens,

    /**
     * Ends a user's lock after too many failed verifications (an administrator, once the user's
     * identity is confirmed another way): the hard lock, the growing delay and the failure count.
     */
    async unlockUser(uid: string): Promise<void> {
      const ids = parseFactors(await ctx.store.hashGetAll(uid, keys.factors)).map((f) => f.id);
      await limiter.unlock(uid, ids);
      await ctx.emit({ type: "user.unlocked", userId: uid });
    },

    /** Whether a user has a factor other than recovery codes. */
    hasFactors: factors.hasFactors,

    /** A factor as a challenge offers it to clients: with its prompt and masked destination. */
    offer(factor: FactorRecord): OfferedFactor {
      return offer(factor, config.factors.get(factor.type));
    },

    /**
     * Declares a guard's rule at start-up (merging configured rules and defaults).
     * @throws TypeError for a bad option, or a pair already declared with different options
     */
    declareRule(resource: string, action: string, opts?: RuleOptions): Rule {
      return rules.declare(resource, action, opts);
    },
  });
}

/** The engine returned by `createStepUp`. */
export type StepUp = ReturnType<typeof createStepUp>;
