// The demos' step-up policy, from the environment (both demos read the same variables):
//   STEPUP_POLICY        OPTIONAL (default) | REQUIRED | RISK_BASED | DISABLED
//   STEPUP_GRACE_DAYS    REQUIRED only: days a user without a factor may still pass (0-365)
//   STEPUP_TRUSTED_DAYS  how long "Remember this device" lasts (1-400, default 30)
//   STEPUP_SIGNIN        1: a second factor at sign-in for users who have one (default off)
// A value that makes no sense stops the demo at start-up with an Error naming the variable.

import type { PolicyOptions, PolicyRequirement, RuleOptions } from "@stepup/core";

/** The demo's policy settings, validated. */
export interface DemoPolicy {
  requirement: PolicyRequirement;
  /** REQUIRED only; 0 (no grace) otherwise. */
  gracePeriodDays: number;
  trustedDays: number;
  /** STEPUP_SIGNIN=1: `POST /login` asks a user with a factor for it. */
  signIn: boolean;
  /** What the start-up output says about the settings (one line each). */
  notes: string[];
}

export const POLICY_REQUIREMENTS: readonly PolicyRequirement[] = [
  "DISABLED",
  "OPTIONAL",
  "REQUIRED",
  "RISK_BASED",
];

type Env = Readonly<Record<string, string | undefined>>;

function wholeNumber(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = /^\d{1,4}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(
      `demo: ${name} must be a whole number of days from ${min} to ${max} (got "${raw.slice(0, 40)}")`,
    );
  return value;
}

/**
 * The demo's policy from STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS and STEPUP_SIGNIN
 * (see the top of this file). An empty variable counts as unset.
 * @throws Error naming the variable whose value is not usable
 */
export function policyFromEnv(env: Env = process.env): DemoPolicy {
  const notes: string[] = [];
  const raw = env.STEPUP_POLICY?.trim() ?? "";
  const requirement = (raw === "" ? "OPTIONAL" : raw.toUpperCase()) as PolicyRequirement;
  if (!POLICY_REQUIREMENTS.includes(requirement))
    throw new Error(
      `demo: STEPUP_POLICY must be one of ${POLICY_REQUIREMENTS.join(", ")} (got "${raw.slice(0, 40)}")`,
    );
  let gracePeriodDays = wholeNumber(env, "STEPUP_GRACE_DAYS", 0, 365) ?? 0;
  if (gracePeriodDays > 0 && requirement !== "REQUIRED") {
    notes.push(`STEPUP_GRACE_DAYS applies to STEPUP_POLICY=REQUIRED only: ignored under ${requirement}`);
    gracePeriodDays = 0;
  }
  const trustedDays = wholeNumber(env, "STEPUP_TRUSTED_DAYS", 1, 400) ?? 30;
  const flag = env.STEPUP_SIGNIN?.trim().toLowerCase() ?? "";
  if (!["", "0", "1", "true", "false"].includes(flag))
    throw new Error(`demo: STEPUP_SIGNIN must be 1 or 0 (got "${env.STEPUP_SIGNIN?.slice(0, 40)}")`);
  const signIn = flag === "1" || flag === "true";
  notes.unshift(
    `policy: ${describePolicy({ requirement, gracePeriodDays, trustedDays, signIn })} (STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN)`,
  );
  return { requirement, gracePeriodDays, trustedDays, signIn, notes };
}

/** The settings in one line, for the start-up output and the home page. */
export function describePolicy(p: Omit<DemoPolicy, "notes">): string {
  const level: Record<PolicyRequirement, string> = {
    DISABLED: "DISABLED (step-up is off, except where a rule chose its own level)",
    OPTIONAL: "OPTIONAL (users without a second factor pass; users with one are asked for it)",
    REQUIRED:
      p.gracePeriodDays > 0
        ? `REQUIRED (users without a second factor must add one within ${p.gracePeriodDays} days)`
        : "REQUIRED (users without a second factor must add one first)",
    RISK_BASED: "RISK_BASED (asked only on a new device, a new address or after a password change)",
  };
  return `${level[p.requirement]}; trusted devices ${p.trustedDays} days; sign-in second factor ${p.signIn ? "on" : "off"}`;
}

/** The global `policy` option of `createStepUp` / `stepUp` for these settings. */
export function stepupPolicy(
  p: Pick<DemoPolicy, "requirement" | "gracePeriodDays" | "trustedDays">,
): PolicyOptions {
  return {
    requirement: p.requirement,
    ...(p.requirement === "REQUIRED" && p.gracePeriodDays > 0 ? { gracePeriodDays: p.gracePeriodDays } : {}),
    trustedDevices: { days: p.trustedDays },
    ...(p.requirement === "RISK_BASED" ? { triggers: RISK_TRIGGERS } : {}),
  };
}

/** Under RISK_BASED, what calls for a step-up: a browser, an address or a credential not seen verified. */
const RISK_TRIGGERS = Object.freeze({ newDevice: true, newIp: true, afterCredentialChange: true });

/** Transfers above this amount always ask for a step-up. */
export const TRANSFER_LIMIT = 1000;

/**
 * The demo's rules, keyed `resource:action` (the `rules` option; the guards spread the same
 * options, so both declare one rule). `maxAge` gives each rule's seconds (STEPUP_MAX_AGE overrides).
 *
 * - `admin:read`, `data:export`: a trusted device ("Remember this device") passes them.
 * - `payment:transfer`: bound to the transaction. Over 1000 it always asks (its `when` trigger);
 *   under RISK_BASED at or under 1000 only when a risk trigger fires; otherwise always REQUIRED
 *   (a transaction rule chooses its own level, or stepup keeps it REQUIRED whatever the global one).
 * - `account:delete`: the global policy, no trusted device.
 */
export function demoRules(
  p: Pick<DemoPolicy, "requirement">,
  maxAge: (seconds: number) => number,
): Record<"admin:read" | "data:export" | "account:delete" | "payment:transfer", RuleOptions> {
  return {
    "admin:read": { label: "open the admin panel", maxAge: maxAge(900), allowTrustedDevice: true },
    "data:export": { label: "export your data", maxAge: maxAge(300), allowTrustedDevice: true },
    "account:delete": { label: "delete your account", maxAge: maxAge(300) },
    "payment:transfer": {
      label: "send money",
      maxAge: maxAge(300),
      match: "transaction",
      policy: {
        requirement: p.requirement === "RISK_BASED" ? "RISK_BASED" : "REQUIRED",
        // No grace for payments, even when the global REQUIRED policy gives one.
        gracePeriodDays: 0,
        triggers: {
          when: ({ details }) => Number(details?.amount) > TRANSFER_LIMIT,
          ...RISK_TRIGGERS,
        },
      },
    },
  };
}

/**
 * What a guarded page says about how it was opened: when the step-up was verified, or that the
 * policy let it through without one, and, within a grace period, the deadline to add a factor by
 * (the `Stepup-Enroll-By` header's date).
 */
export function passLine(
  stepUp: { verifiedAt: string | null; enrollBy?: string | null } | undefined,
): string {
  const how = stepUp?.verifiedAt
    ? `Verified at ${stepUp.verifiedAt}.`
    : "No step-up was asked for: the policy let this request through.";
  return stepUp?.enrollBy
    ? `${how} Add a second factor in the console by ${stepUp.enrollBy}: after that, this page asks for one.`
    : how;
}
