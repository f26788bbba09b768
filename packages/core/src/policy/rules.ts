import { resolveRule } from "../config.js";
import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import type { Rule, RuleOptions } from "../types.js";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The rule for a `resource:action`: a configured rule, else one a guard declared, else the defaults.
 * Guards declare their rule at start-up (`declare`), so a challenge opened through the JSON API for
 * the same pair gets the same maxAge and factors without the client choosing them.
 */
export function createRuleBook(ctx: EngineContext) {
  const types = new Set(ctx.config.factors.keys());
  const rules = ctx.config.rules;

  return {
    /** Resolves (and remembers) the rule of a guard. Throws a TypeError naming a bad option. */
    declare(resource: string, action: string, options: RuleOptions = {}): Rule {
      const key = `${resource}:${action}`;
      const base = rules.get(key) ?? ctx.config.defaults;
      const rule = resolveRule(`requireStepUp(${key})`, resource, action, options, base, types);
      if (!rules.has(key)) rules.set(key, rule);
      return rule;
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
      return rules.get(`${resource}:${action}`) ?? { ...ctx.config.defaults, resource, action };
    },
  };
}

export type RuleBook = ReturnType<typeof createRuleBook>;
