import { resolveRule } from "../config.js";
import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import type { Rule, RuleOptions } from "../types.js";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.maxAge === b.maxAge &&
    a.level === b.level &&
    a.match === b.match &&
    a.userVerification === b.userVerification &&
    a.label === b.label &&
    a.allowTrustedDevice === b.allowTrustedDevice &&
    samePolicy(a.policy, b.policy) &&
    a.factors.length === b.factors.length &&
    a.factors.every((f, i) => f === b.factors[i])
  );
}

function samePolicy(a: Rule["policy"], b: Rule["policy"]): boolean {
  const t = (p: Rule["policy"]) => [
    p.triggers.newDevice,
    p.triggers.newIp,
    p.triggers.afterCredentialChange,
    p.triggers.when,
  ];
  return (
    a.requirement === b.requirement &&
    a.gracePeriodDays === b.gracePeriodDays &&
    a.mode === b.mode &&
    a.noFactor === b.noFactor &&
    t(a).every((v, i) => v === t(b)[i])
  );
}

function describeRule(r: Rule): string {
  return `maxAge ${r.maxAge}, level ${r.level}, match ${r.match}, userVerification ${r.userVerification}, factors ${r.factors.join("+")}${r.label === undefined ? "" : `, label "${r.label}"`}`;
}

/**
 * The rule for a `resource:action`: one rule per pair, whoever declares it. Configured `rules` come
 * first; a guard declares its rule at start-up (`declare`), so a challenge opened through the JSON
 * API for the same pair gets the same maxAge, level and factors without the client choosing them.
 * Two declarations that disagree (a guard overriding a configured rule, two guards on one pair
 * with different options) throw at start-up: otherwise the first would win silently and a guard
 * and `POST /api/challenges` could ask for different things.
 */
export function createRuleBook(ctx: EngineContext) {
  const types = new Set(ctx.config.factors.keys());
  const configured = new Map(ctx.config.rules);
  const rules = new Map(configured);

  return {
    /**
     * Resolves (and remembers) the rule of a guard.
     * @throws TypeError naming a bad option, or a pair already declared with different options
     */
    declare(resource: string, action: string, options: RuleOptions = {}, where = "requireStepUp"): Rule {
      const key = `${resource}:${action}`;
      const base = configured.get(key) ?? ctx.config.defaults;
      const rule = resolveRule(`${where}(${key})`, resource, action, options, base, ctx.config.factors);
      const existing = rules.get(key);
      if (existing === undefined) {
        rules.set(key, rule);
        return rule;
      }
      if (!sameRule(existing, rule)) {
        throw new TypeError(
          `stepup: the rule "${key}" is declared twice with different options (${describeRule(existing)} vs ${describeRule(rule)}): declare it once, in \`rules\` or in one guard`,
        );
      }
      return existing;
    },

    /** The rule for a pair named by a client; never lets the client choose the rule's fields. */
    lookup(resource: unknown, action: unknown): Rule {
      if (typeof resource !== "string" || !NAME.test(resource)) {
        throw new StepUpError("INVALID_INPUT", "`resource` must be 1-64 of A-Z a-z 0-9 _ . -", {
          field: "resource",
        });
      }
      if (typeof action !== "string" || !NAME.test(action)) {
        throw new StepUpError("INVALID_INPUT", "`action` must be 1-64 of A-Z a-z 0-9 _ . -", {
          field: "action",
        });
      }
      return (
        rules.get(`${resource}:${action}`) ??
        resolveRule("lookup", resource, action, {}, ctx.config.defaults, ctx.config.factors)
      );
    },
    /** Whether a pair has a rule (configured or declared). */
    has: (resource: string, action: string) => rules.has(`${resource}:${action}`),
    types,
  };
}

export type RuleBook = ReturnType<typeof createRuleBook>;
