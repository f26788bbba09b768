import type { Sessions } from "../assurance/sessions.js";
import type { Challenges, OpenedChallenge } from "../challenge/challenges.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import type { Decider } from "../policy/decide.js";
import type { RuleBook } from "../policy/rules.js";
import type { StepUpUser } from "../types.js";

/** The rule of the sign-in second factor (resource `session`, action `sign-in`). */
export const SIGN_IN = Object.freeze({ resource: "session", action: "sign-in" });

/** What `beginSignIn` decided: sign in now, or prove a factor first. */
export type SignInStart =
  /** No second factor is due (none enrolled, a trusted device, or the policy waives it). */
  | { outcome: "complete"; reason: string }
  /** The policy hook said BLOCK: refuse the sign-in (the password alone must not get through). */
  | { outcome: "blocked" }
  /** A challenge in a new step-up session `sid`; `signInId` is completed once, after it. */
  | { outcome: "challenge"; signInId: string; sid: string; opened: OpenedChallenge };

/**
 * The second factor at sign-in: after the app's own password check, `begin` opens a challenge for
 * `session:sign-in` in a fresh step-up session, and `complete` answers "this user proved it" once.
 * The pending sign-in is a record taken atomically on completion (no replay), and completing needs
 * the step-up session the proof was made in (a cookie of that browser): another browser cannot
 * complete it.
 */
export function createSignIn(
  ctx: EngineContext,
  rules: RuleBook,
  decider: Decider,
  sessions: Sessions,
  challenges: Challenges,
) {
  const rule = rules.has(SIGN_IN.resource, SIGN_IN.action)
    ? rules.lookup(SIGN_IN.resource, SIGN_IN.action)
    : rules.declare(
        SIGN_IN.resource,
        SIGN_IN.action,
        { maxAge: 300, match: "action", label: "sign in", allowTrustedDevice: true },
        "sign-in rule",
      );

  return {
    rule,

    /**
     * Starts the sign-in second factor for a user whose password the app has just checked.
     * @throws StepUpError STORE_UNAVAILABLE
     */
    async begin(
      user: StepUpUser,
      input: { ip?: string | undefined; device?: string | undefined; returnTo?: string | undefined } = {},
    ): Promise<SignInStart> {
      const decision = await decider.decide({
        user,
        sid: undefined,
        rule,
        ip: input.ip,
        device: input.device,
      });
      if (decision.outcome === "waived") return { outcome: "complete", reason: decision.reason };
      if (decision.outcome === "allow") return { outcome: "complete", reason: "fresh" };
      // With no factor there is nothing to prove at sign-in: a REQUIRED policy asks for enrolment at
      // the first guarded action, where the app's own session exists.
      if (
        decision.outcome === "challenge" &&
        decision.offer.factors.length === 0 &&
        !decision.offer.userLocked
      )
        return { outcome: "complete", reason: "no-factor" };
      if (decision.outcome === "block") return { outcome: "blocked" };
      if (decision.outcome === "enroll-required") return { outcome: "complete", reason: "no-factor" };
      const sid = ctx.newId();
      const signInId = ctx.newId();
      await ctx.store.set(
        user.id,
        keys.signIn(signInId),
        JSON.stringify({ createdAtMs: ctx.now() }),
        ctx.config.challengeTtl,
      );
      const offer = decision.outcome === "challenge" ? decision.offer : undefined;
      const target = input.returnTo === undefined ? {} : { returnTo: input.returnTo };
      const opened = await challenges.open(user, sid, rule, target, offer);
      return { outcome: "challenge", signInId, sid, opened };
    },

    /**
     * Whether the sign-in `signInId` was proved in step-up session `sid`: true once, then false.
     * @throws StepUpError STORE_UNAVAILABLE
     */
    async complete(uid: string, sid: string | undefined, signInId: unknown): Promise<boolean> {
      if (typeof signInId !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(signInId)) return false;
      const fresh = await sessions.check(uid, sid, rule);
      if (!fresh.fresh) return false;
      if ((await ctx.store.take(uid, keys.signIn(signInId))) === null) return false;
      await ctx.emit({ type: "signin.completed", userId: uid, factor: fresh.assurance.factor });
      return true;
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
