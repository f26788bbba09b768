import type { Rule, StepUpUser } from "../types.js";
import type { Decider } from "./decide.js";
import type { RuleBook } from "./rules.js";
import { OWN_RESOURCE } from "./waivable.js";

/** stepup's own sensitive actions, guarded like any route under resource `stepup`. */
export type OwnAction = "factor.add" | "factor.remove" | "recovery.regenerate" | "admin";

/** What an engine call answers when it needs a fresh step-up first: the rule to step up for. */
export interface NeedsStepUp {
  stepUpRequired: Rule;
}

const OWN_ACTIONS: readonly OwnAction[] = ["factor.add", "factor.remove", "recovery.regenerate", "admin"];

/** What the challenge page and modal say ("You're about to add a verification method."). */
const OWN_LABELS: Readonly<Record<OwnAction, string>> = {
  "factor.add": "add a verification method",
  "factor.remove": "remove a verification method",
  "recovery.regenerate": "generate new recovery codes",
  admin: "manage another user's two-step verification",
};

/**
 * The rules of stepup's own actions, in one place: adding a factor when the user already has one
 * (and confirming an enrollment that finishes after a first factor exists), removing a factor,
 * issuing new recovery codes, and an administrator's use of the admin API (`stepup:admin`, checked
 * by the HTTP layer on the administrator's own session). Each needs a fresh step-up for
 * `stepup:<action>`: 5 minutes, any factor, unless the app configures `rules["stepup:<action>"]`
 * itself; a policy hook or a trusted device never waives it (`waivable`).
 */
export function createOwnActions(rules: RuleBook, decider: Decider) {
  const own = Object.fromEntries(
    OWN_ACTIONS.map((action) => [
      action,
      rules.has(OWN_RESOURCE, action)
        ? rules.lookup(OWN_RESOURCE, action)
        : rules.declare(
            OWN_RESOURCE,
            action,
            { maxAge: 300, match: "session", label: OWN_LABELS[action] },
            "own rule",
          ),
    ]),
  ) as Record<OwnAction, Rule>;

  return {
    rules: Object.freeze(own),
    /**
     * Whether `user` may run `action` now: undefined when their step-up session is fresh for its
     * rule, else what to step up for. Policy hooks can block these but never waive them.
     */
    async check(
      user: StepUpUser,
      sid: string | undefined,
      action: OwnAction,
    ): Promise<NeedsStepUp | undefined> {
      const rule = own[action];
      // Freshness (and a policy BLOCK) only: when a step-up is due, the caller runs the guard for
      // this rule, which reads what a challenge can offer; reading it here too would be twice.
      const decision = await decider.settled({ user, sid, rule });
      return decision?.outcome === "allow" ? undefined : { stepUpRequired: rule };
    },
  };
}

export type OwnActions = ReturnType<typeof createOwnActions>;
