import type { Rule } from "../types.js";

/** The resource of stepup's own sensitive actions (adding or removing a factor, new recovery codes). */
export const OWN_RESOURCE = "stepup";

/**
 * Whether a policy may waive a rule's step-up (a hook answering ALLOW). Never for stepup's own
 * actions (a waived `factor.add` would let anyone with the password enroll their own
 * authenticator), transaction rules (the approval is bound to what is paid) or rules demanding
 * phishing-resistant proof: whatever the hook says, those are proved.
 */
export function waivable(rule: Pick<Rule, "resource" | "match" | "level">): boolean {
  return (
    rule.resource !== OWN_RESOURCE && rule.match !== "transaction" && rule.level !== "phishing-resistant"
  );
}
