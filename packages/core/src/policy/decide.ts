import { meetsLevel } from "../assurance/find-assurance.js";
import type { FreshResult, Sessions } from "../assurance/sessions.js";
import type { AttemptLimiter } from "../challenge/attempt-limiter.js";
import type { Devices, RiskView } from "../devices/devices.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors } from "../internal/records.js";
import type { Assurance, FactorRecord, Rule, StepUpUser } from "../types.js";
import { OWN_RESOURCE, waivable } from "./waivable.js";

/** What the guard asks: who, in which step-up session, for which rule (and transaction). */
export interface DecideInput {
  user: StepUpUser;
  /** The step-up session id from the cookie; undefined when there is none. */
  sid: string | undefined;
  rule: Rule;
  /** Transaction digest, for `match: "transaction"` rules. */
  txn?: string | undefined;
  /** Client address (the `newIp` trigger, the policy hook). */
  ip?: string | undefined;
  /** The device cookie's value, when the browser sent one (trusted devices, `newDevice`). */
  device?: string | undefined;
  /** The request's details, for `when` triggers and the hook (a transaction's `{ amount, to }`). */
  details?: Readonly<Record<string, unknown>> | undefined;
}

/** Why a step-up was not asked for although the session is not fresh. */
export type WaiveReason =
  | "hook"
  | "disabled"
  | "trusted-device"
  | "no-risk"
  | "no-factor"
  | "grace"
  | "log-only";

/** The guard's answer: a value for every expected outcome, never an exception. */
export type StepUpDecision =
  /** Fresh enough: what was verified, and until when it counts for this rule. */
  | { outcome: "allow"; assurance: Assurance; verifiedAtMs: number; expiresAtMs: number }
  /**
   * The policy lets this request pass without a step-up (`reason`). Within a grace period,
   * `enrollByMs` is the deadline to enrol by (`Stepup-Enroll-By`).
   */
  | { outcome: "waived"; reason: WaiveReason; enrollByMs?: number }
  /**
   * Not fresh: a challenge for this rule is due. `offer` is what it can offer (read to decide, and
   * handed to `openChallenge` so the challenge path does not read it twice); an empty offer means
   * "enrol first, then verify".
   */
  | { outcome: "challenge"; rule: Rule; offer: ChallengeOffer }
  /**
   * Not fresh, and none of the user's factors for this rule can take a guess now: locked for good
   * (`userLocked`, until an unlock), or for `retryAfter` seconds.
   */
  | { outcome: "locked"; rule: Rule; userLocked: boolean; retryAfter: number }
  /** The user has no factor this rule accepts, and its policy says `noFactor: "deny"`. */
  | { outcome: "enroll-required"; rule: Rule }
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

const DAY_MS = 86_400_000;

export function createDecider(
  ctx: EngineContext,
  sessions: Sessions,
  limiter: AttemptLimiter,
  devices: Devices,
) {
  const { config } = ctx;
  const hook = config.policy.decide;

  async function wouldChallenge(
    input: DecideInput,
    decision: string,
    reason: string,
  ): Promise<StepUpDecision> {
    await ctx.emit({
      type: "policy.decision",
      metadata: { mode: "log-only" },
      userId: input.user.id,
      resource: input.rule.resource,
      action: input.rule.action,
      decision,
      reason,
      ...(input.ip ? { ip: input.ip } : {}),
    });
    return { outcome: "waived", reason: "log-only" };
  }

  /**
   * The policy hook and the freshness check only: an answer when the request may pass (or is
   * blocked), undefined when a step-up is due. One store round trip when there is no hook.
   */
  async function settled(input: DecideInput): Promise<StepUpDecision | undefined> {
    const { user, sid, rule, txn, ip, details } = input;
    if (hook) {
      const verdict = await hook({ user, rule, ...(ip ? { ip } : {}), ...(details ? { details } : {}) });
      if (verdict === "BLOCK") {
        if (rule.policy.mode === "log-only" && waivable(rule)) return wouldChallenge(input, "BLOCK", "hook");
        return { outcome: "block", rule };
      }
      // ALLOW never waives stepup's own actions, transaction or phishing-resistant rules.
      if (verdict === "ALLOW" && waivable(rule)) return { outcome: "waived", reason: "hook" };
      if (verdict === "REVIEW") await review(input);
    }
    const freshness = await sessions.check(user.id, sid, rule, txn);
    return freshness.fresh ? allow(freshness) : undefined;
  }

  /**
   * The allow decision of a fresh answer: the same (frozen) object for the same answer (a kept
   * answer comes again; a one-off's entry goes with it).
   */
  const allowed = new WeakMap<FreshResult, StepUpDecision>();
  function allow(fresh: FreshResult): StepUpDecision {
    let decision = allowed.get(fresh);
    if (decision === undefined) {
      const { assurance, verifiedAtMs, expiresAtMs } = fresh;
      decision = Object.freeze({ outcome: "allow", assurance, verifiedAtMs, expiresAtMs });
      allowed.set(fresh, decision);
    }
    return decision;
  }

  /** REVIEW: challenged like CHALLENGE, and kept for an administrator to look at. */
  async function review(input: DecideInput): Promise<void> {
    const { user, rule, ip } = input;
    await ctx.emit({
      type: "policy.decision",
      userId: user.id,
      resource: rule.resource,
      action: rule.action,
      decision: "REVIEW",
      ...(ip ? { ip } : {}),
    });
    const entry = JSON.stringify({ atMs: ctx.now(), resource: rule.resource, action: rule.action, ip });
    await ctx.store.append(user.id, keys.reviews, entry, 100, 90 * 86_400);
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

  /** The triggers of the rule that fire for this request (names, for events and tests). */
  async function firing(input: DecideInput, view: RiskView | undefined): Promise<string[]> {
    const t = input.rule.policy.triggers;
    const fired: string[] = [];
    if (view && t.newDevice && !devices.deviceOf(view, input.device)) fired.push("newDevice");
    if (view && t.newIp && !devices.knownIp(view, input.ip)) fired.push("newIp");
    if (view && t.afterCredentialChange && view.credentialChangedAtMs !== undefined)
      fired.push("afterCredentialChange");
    if (t.when) {
      const { user, rule, ip, details } = input;
      if (await t.when({ user, rule, ...(ip ? { ip } : {}), ...(details ? { details } : {}) }))
        fired.push("when");
    }
    return fired;
  }

  /** REQUIRED with a grace period: the deadline, from the user's first guarded request (kept once). */
  async function graceDeadline(uid: string, days: number): Promise<number> {
    const now = ctx.now();
    await ctx.store.setIfAbsent(uid, keys.graceStart, String(now), null);
    const [raw] = await ctx.store.getMany(uid, [keys.graceStart]);
    return (Number(raw) || now) + days * DAY_MS;
  }

  /**
   * The guard's question. When fresh this costs one store round trip (the policy hook runs first
   * when configured); the factors, locks, devices and risk memory are read only when not fresh.
   *
   * Never waived by policy, whatever the global level, the hook, log-only mode or a trusted device
   * say: stepup's own actions, transaction rules and phishing-resistant rules. A transaction or
   * phishing-resistant rule that sets its own `policy.requirement` has chosen it (the app's
   * developer did, per rule): that level applies to it, without trusted devices or log-only.
   *
   * Answered synchronously when it can be (no hook, the store's coherent cache holds the record),
   * else a promise: the adapters' hot path then awaits nothing. An allow decision may be shared
   * with other calls for the same session and rule: it is frozen.
   */
  function decideNow(input: DecideInput): StepUpDecision | Promise<StepUpDecision> {
    if (hook) return decideWithHook(input);
    const freshness = sessions.check(input.user.id, input.sid, input.rule, input.txn);
    if (freshness instanceof Promise) return freshness.then((f) => (f.fresh ? allow(f) : notFresh(input)));
    return freshness.fresh ? allow(freshness) : notFresh(input);
  }

  async function decideWithHook(input: DecideInput): Promise<StepUpDecision> {
    const answer = await settled(input);
    return answer ?? notFresh(input);
  }

  /** Not fresh (or no session): what the policy says, and what a challenge can offer. */
  async function notFresh(input: DecideInput): Promise<StepUpDecision> {
    const { rule, user } = input;
    const policy = rule.policy;
    const guarded = !waivable(rule);
    const own = rule.resource === OWN_RESOURCE;
    const requirement = own || (guarded && !policy.explicit) ? "REQUIRED" : policy.requirement;
    const logOnly = policy.mode === "log-only" && !guarded;
    if (requirement === "DISABLED") return { outcome: "waived", reason: "disabled" };

    const t = policy.triggers;
    const needsView =
      !own && ((rule.allowTrustedDevice && !guarded) || t.newDevice || t.newIp || t.afterCredentialChange);
    const [{ offer, enrolled, retryAfter }, view] = await Promise.all([
      offerFor(user.id, rule),
      needsView ? devices.read(user.id) : Promise.resolve(undefined),
    ]);
    const fired = own ? [] : await firing(input, view);
    if (view && rule.allowTrustedDevice && !guarded && fired.length === 0) {
      const device = devices.trusted(view, input.device);
      if (device) {
        await devices.touch(user.id, device);
        return { outcome: "waived", reason: "trusted-device" };
      }
    }
    if (requirement === "RISK_BASED" && fired.length === 0) return { outcome: "waived", reason: "no-risk" };
    if (enrolled === 0 && !own) {
      // A protected rule follows only a policy it chose itself, never an inherited "allow".
      const chosen = !guarded || policy.explicit;
      const choice = chosen ? policy.noFactor : "enroll";
      if (requirement === "REQUIRED" && policy.gracePeriodDays > 0 && chosen) {
        const enrollByMs = await graceDeadline(user.id, policy.gracePeriodDays);
        if (ctx.now() < enrollByMs) return { outcome: "waived", reason: "grace", enrollByMs };
      }
      if (choice === "allow") return { outcome: "waived", reason: "no-factor" };
      if (choice === "deny")
        return logOnly ? wouldChallenge(input, "DENY", "no-factor") : { outcome: "enroll-required", rule };
    }
    if (logOnly) return wouldChallenge(input, "CHALLENGE", fired.join(",") || requirement);
    if (enrolled > 0 && offer.factors.length === 0) {
      return { outcome: "locked", rule, userLocked: offer.userLocked, retryAfter };
    }
    return { outcome: "challenge", rule, offer };
  }

  /** `decideNow`, always as a promise (the public `engine.decide`). */
  async function decide(input: DecideInput): Promise<StepUpDecision> {
    return decideNow(input);
  }

  return { decide, decideNow, settled };
}

export type Decider = ReturnType<typeof createDecider>;
