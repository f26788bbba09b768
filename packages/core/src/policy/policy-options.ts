import type { PolicyDecision, Rule, StepUpUser } from "../types.js";

/**
 * How much a rule asks of users (Authsignal's and Okta's vocabulary):
 * - `DISABLED`: guards pass.
 * - `OPTIONAL`: users with no factor pass; users with one are challenged.
 * - `REQUIRED`: users with no factor must enrol, then verify (after `gracePeriodDays`).
 * - `RISK_BASED`: a challenge only when a trigger fires.
 */
export type PolicyRequirement = "DISABLED" | "OPTIONAL" | "REQUIRED" | "RISK_BASED";

/** What a `when` trigger and the `decide` hook see. */
export interface TriggerContext {
  user: StepUpUser;
  rule: Rule;
  /** Client address, when known. */
  ip?: string;
  /** The request's details, when the guard gives them (a transaction rule's `transaction(req)`). */
  details?: Readonly<Record<string, unknown>>;
}

/** Conditions that call for a challenge (all of them under `RISK_BASED`; extra conditions otherwise). */
export interface PolicyTriggers {
  /** This browser has no device cookie from a verification by this user. */
  newDevice?: boolean;
  /** The client address (IPv6 by /64) had no verification by this user in 30 days. */
  newIp?: boolean;
  /** `markCredentialChange(userId)` was called and the user has not verified since. */
  afterCredentialChange?: boolean;
  /** Your own condition, e.g. `({ details }) => Number(details?.amount) > 1000`. */
  when?: (context: TriggerContext) => boolean | Promise<boolean>;
}

/** What to do for a user with no factor a rule accepts. */
export type NoFactorAction = "allow" | "deny" | "enroll";

/** A policy, global (`createStepUp({ policy })`) or per rule (`rules[...].policy`). */
export interface RulePolicyOptions {
  /** @default "REQUIRED" (secure by default) */
  requirement?: PolicyRequirement;
  /**
   * `REQUIRED` only: days a user with no factor may still pass, counted from their first guarded
   * request (kept in the store; a policy change moves the deadline). Responses within it carry
   * `Stepup-Enroll-By`. @default 0
   */
  gracePeriodDays?: number;
  triggers?: PolicyTriggers;
  /**
   * `log-only` records the decision it would have made (event `policy.decision` with `metadata.mode: "log-only"`) and lets the
   * request pass: for rolling a policy out. Never applies to stepup's own actions, transaction
   * rules or phishing-resistant rules. @default "enforce"
   */
  mode?: "enforce" | "log-only";
  /**
   * A user with no factor this rule accepts: `allow` them through, `deny` (403
   * `enrollment_required`, with where to enrol), or `enroll` first and then verify.
   * @default "allow" for OPTIONAL, "enroll" otherwise
   */
  noFactor?: NoFactorAction;
}

/** The global policy: a rule policy plus trusted devices and the risk hook. */
export interface PolicyOptions extends RulePolicyOptions {
  /** "Remember this device": how long a trusted device skips rules that allow it; `false`: never. @default { days: 30 } */
  trustedDevices?: { days: number } | false;
  /** Risk hook: `ALLOW` skips step-up, `BLOCK` refuses (403), `REVIEW` challenges and is recorded. */
  decide?: (context: TriggerContext) => PolicyDecision | Promise<PolicyDecision>;
}

/** A rule's policy with every field resolved. */
export interface ResolvedRulePolicy {
  requirement: PolicyRequirement;
  gracePeriodDays: number;
  triggers: Readonly<PolicyTriggers>;
  mode: "enforce" | "log-only";
  noFactor: NoFactorAction;
  /** Whether the rule chose its requirement itself (a transaction or phishing-resistant rule may then be risk-based). */
  explicit: boolean;
}

const REQUIREMENTS: readonly PolicyRequirement[] = ["DISABLED", "OPTIONAL", "REQUIRED", "RISK_BASED"];
const NO_FACTOR: readonly NoFactorAction[] = ["allow", "deny", "enroll"];

function fail(option: string, expected: string): never {
  throw new TypeError(`stepup: option \`${option}\` ${expected}`);
}

function triggersOf(option: string, input: unknown): Readonly<PolicyTriggers> {
  if (input === undefined) return Object.freeze({});
  if (typeof input !== "object" || input === null) fail(option, "must be an object");
  const t = input as PolicyTriggers;
  for (const flag of ["newDevice", "newIp", "afterCredentialChange"] as const) {
    if (t[flag] !== undefined && typeof t[flag] !== "boolean") fail(`${option}.${flag}`, "must be a boolean");
  }
  if (t.when !== undefined && typeof t.when !== "function") fail(`${option}.when`, "must be a function");
  for (const key of Object.keys(t)) {
    if (!["newDevice", "newIp", "afterCredentialChange", "when"].includes(key))
      fail(`${option}.${key}`, "is not a trigger (newDevice, newIp, afterCredentialChange, when)");
  }
  return Object.freeze({ ...t });
}

/** Resolves a rule's policy over the global one (`base`), naming a bad option. */
export function resolveRulePolicy(
  option: string,
  input: RulePolicyOptions | undefined,
  base: ResolvedRulePolicy,
): ResolvedRulePolicy {
  if (input === undefined) return base;
  if (typeof input !== "object" || input === null) fail(option, "must be an object");
  const requirement = input.requirement ?? base.requirement;
  if (!REQUIREMENTS.includes(requirement))
    fail(`${option}.requirement`, `must be one of ${REQUIREMENTS.join(", ")}`);
  const same = requirement === base.requirement;
  const grace = input.gracePeriodDays ?? (same ? base.gracePeriodDays : 0);
  if (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0 || grace > 365)
    fail(`${option}.gracePeriodDays`, "must be a whole number of days from 0 to 365");
  if (grace > 0 && requirement !== "REQUIRED") fail(`${option}.gracePeriodDays`, "applies to REQUIRED only");
  const mode = input.mode ?? base.mode;
  if (mode !== "enforce" && mode !== "log-only") fail(`${option}.mode`, 'must be "enforce" or "log-only"');
  const noFactor = input.noFactor ?? (same ? base.noFactor : requirement === "OPTIONAL" ? "allow" : "enroll");
  if (!NO_FACTOR.includes(noFactor)) fail(`${option}.noFactor`, `must be one of ${NO_FACTOR.join(", ")}`);
  const triggers =
    input.triggers === undefined ? base.triggers : triggersOf(`${option}.triggers`, input.triggers);
  if (requirement === "RISK_BASED" && !Object.values(triggers).some((v) => v !== undefined && v !== false))
    fail(
      `${option}.triggers`,
      "must name at least one trigger under RISK_BASED (else nothing is ever challenged)",
    );
  return Object.freeze({
    requirement,
    gracePeriodDays: grace,
    triggers,
    mode,
    noFactor,
    explicit: base.explicit || input.requirement !== undefined,
  });
}

/** The library's default: REQUIRED, no grace, enforced (secure by default). */
export const DEFAULT_POLICY: ResolvedRulePolicy = Object.freeze({
  requirement: "REQUIRED",
  gracePeriodDays: 0,
  triggers: Object.freeze({}),
  mode: "enforce",
  noFactor: "enroll",
  explicit: false,
});

/** The global policy: the rule part, the trusted-device days (0: off) and the hook. */
export function resolveGlobalPolicy(input: PolicyOptions | PolicyOptions["decide"] | undefined): {
  base: ResolvedRulePolicy;
  trustedDays: number;
  decide: PolicyOptions["decide"];
} {
  // A function is the risk hook alone (the option's earlier form).
  if (typeof input === "function") return { base: DEFAULT_POLICY, trustedDays: 30, decide: input };
  if (input === undefined) return { base: DEFAULT_POLICY, trustedDays: 30, decide: undefined };
  if (typeof input !== "object" || input === null) fail("policy", "must be an object (or a decide function)");
  const base = { ...resolveRulePolicy("policy", input, DEFAULT_POLICY), explicit: false };
  const td = input.trustedDevices;
  let trustedDays = 30;
  if (td === false) trustedDays = 0;
  else if (td !== undefined) {
    if (typeof td !== "object" || td === null || !Number.isInteger(td.days) || td.days < 1 || td.days > 400)
      fail("policy.trustedDevices.days", "must be a whole number of days from 1 to 400");
    trustedDays = td.days;
  }
  if (input.decide !== undefined && typeof input.decide !== "function")
    fail("policy.decide", "must be a function");
  return { base: Object.freeze(base), trustedDays, decide: input.decide };
}
