import { randomBytes as nodeRandomBytes } from "node:crypto";
import { meetsLevel } from "./assurance/find-assurance.js";
import type { FactorPlugin } from "./factors/factor.js";
import type { SecurityNotice } from "./factors/one-time-code/messages.js";
import { type Clock, systemClock } from "./internal/clock.js";
import {
  type PolicyOptions,
  resolveGlobalPolicy,
  resolveRulePolicy,
  type TriggerContext,
} from "./policy/policy-options.js";
import type { Store } from "./store/store.js";
import { type ResolvedTokenOptions, resolveTokenOptions, type TokenOptions } from "./token/tokens.js";
import type { AssuranceLevel, MatchMode, PolicyDecision, Rule, RuleOptions, StepUpEvent } from "./types.js";
import {
  type ResolvedWebhooks,
  resolveWebhookOptions,
  type WebhookOptions,
} from "./webhooks/webhook-options.js";

/** A counting window: at most `max` attempts per `windowSeconds`. */
export interface LimitOptions {
  max: number;
  windowSeconds: number;
}

/** The consecutive-failure lock (NIST SP 800-63B section 5.2.2). */
export interface LockoutOptions {
  /**
   * Consecutive failed verifications (all factors together) after which the user is locked until
   * `engine.unlockUser` or a recovery code. At most 100. @default 100
   */
  maxFailures?: number;
  /**
   * Failures allowed before each further attempt must wait a growing delay (2 s, 4 s, 8 s, ...).
   * @default 10
   */
  delayAfter?: number;
  /** The longest such delay, in seconds. @default 900 */
  maxDelaySeconds?: number;
}

/** Context a `policy` hook decides on (also what a `when` trigger sees). */
export type PolicyContext = TriggerContext;

/** Where stepup logs what it must not send to clients (store failures, hook errors). */
export interface Logger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** Options of `createStepUp`. */
export interface StepUpOptions {
  /** Where state lives: `memoryStore()` for one process, `redisStore()` for many. */
  store: Store;
  /**
   * How long one store call may take, in milliseconds (whole, 1 to 60000), before it fails closed
   * with STORE_UNAVAILABLE (503): a hung store must not hang every guarded request.
   * @default 2000
   */
  storeTimeoutMs?: number;
  /**
   * At least 32 characters. Seals the step-up cookie and (through HKDF) encrypts factor secrets and
   * keys code hashes. An array rotates: the first is current, the others still open old data.
   */
  secret: string | readonly string[];
  /** Shown to users and in authenticator apps. */
  appName: string;
  /** Factor plugins, e.g. `[totp()]`. */
  factors: readonly FactorPlugin[];
  /** Rules by `"resource:action"`. Guards may also declare rules inline. */
  rules?: Readonly<Record<string, RuleOptions>>;
  /** Defaults for every rule. */
  defaults?: RuleOptions;
  /** Risk hook: `ALLOW` skips step-up, `BLOCK` refuses (403); `REVIEW` is treated as `CHALLENGE`. */
  /**
   * Policy levels (DISABLED, OPTIONAL, REQUIRED with a grace period, RISK_BASED with triggers),
   * trusted devices and the risk hook `decide`; rules may override the level and triggers. A
   * function is taken as the `decide` hook alone. @default { requirement: "REQUIRED" }
   */
  policy?: PolicyOptions | ((context: PolicyContext) => PolicyDecision | Promise<PolicyDecision>);
  limits?: {
    /** Guesses per challenge. @default 5 */
    perChallenge?: number;
    /** Guesses per user and factor. @default { max: 20, windowSeconds: 900 } */
    perFactor?: LimitOptions;
    /** Guesses per client address (IPv6: per /64), all users. @default { max: 100, windowSeconds: 900 } */
    perIp?: LimitOptions;
    /** Consecutive failures per user: growing delays, then a hard lock. */
    lockout?: LockoutOptions;
  };
  /** How long a challenge stays open, in seconds. @default 600 */
  challengeTtl?: number;
  /** How long a step-up session record lives after its last verification, in seconds. @default 86400 */
  sessionTtl?: number;
  /** Receives every enrollment, challenge, verification, lockout and revocation. */
  onEvent?: (event: StepUpEvent) => void | Promise<void>;
  /**
   * Tells the user when a factor is added or removed, a recovery code is used, or they are locked
   * out (never with a code or secret). A function to deliver notices yourself; `false` for none.
   * @default the `email()` factor, when configured, emails them to the user's `email`
   */
  notify?: false | ((notice: SecurityNotice) => void | Promise<void>);
  /** Step-up tokens (ES256 JWTs other services verify against the JWKS). Off without it. */
  tokens?: TokenOptions;
  /** Signed webhooks (Standard Webhooks) for every event, from a durable outbox. Off without it. */
  webhooks?: WebhookOptions;
  logger?: Logger;
  /** Injectable time (tests). */
  clock?: Clock;
  /** Injectable randomness (tests). @default node:crypto randomBytes */
  randomBytes?: (length: number) => Uint8Array;
}

/** `StepUpOptions` validated, defaulted and frozen. */
export interface ResolvedConfig {
  store: Store;
  storeTimeoutMs: number;
  secrets: readonly string[];
  appName: string;
  factors: ReadonlyMap<string, FactorPlugin>;
  rules: ReadonlyMap<string, Rule>;
  defaults: Omit<Rule, "resource" | "action">;
  policy: ReturnType<typeof resolveGlobalPolicy>;
  limits: {
    perChallenge: number;
    perFactor: LimitOptions;
    perIp: LimitOptions;
    lockout: Required<LockoutOptions>;
  };
  challengeTtl: number;
  sessionTtl: number;
  onEvent: StepUpOptions["onEvent"];
  notify: ((notice: SecurityNotice) => void | Promise<void>) | undefined;
  tokens: ResolvedTokenOptions | undefined;
  webhooks: ResolvedWebhooks | undefined;
  logger: Logger;
  clock: Clock;
  randomBytes: (length: number) => Uint8Array;
}

const LEVELS: readonly AssuranceLevel[] = ["mfa", "phishing-resistant"];
const MATCHES: readonly MatchMode[] = ["session", "action", "transaction"];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The first factor that can deliver notices itself (`email()`), as the default `notify`. */
function defaultNotifier(factors: ReadonlyMap<string, FactorPlugin>) {
  for (const plugin of factors.values()) {
    const notifier = plugin as FactorPlugin & { sendNotice?: (n: SecurityNotice) => Promise<void> };
    if (typeof notifier.sendNotice === "function") return (n: SecurityNotice) => notifier.sendNotice?.(n);
  }
  return undefined;
}

function fail(option: string, expected: string): never {
  throw new TypeError(`stepup: option \`${option}\` ${expected}`);
}

function wholeNumber(option: string, value: unknown, fallback: number, max: number, unit: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    fail(option, `must be a whole number${unit} from 1 to ${max}`);
  }
  return value;
}

const seconds = (option: string, value: unknown, fallback: number, max = 31_536_000) =>
  wholeNumber(option, value, fallback, max, " of seconds");
const count = (option: string, value: unknown, fallback: number, max: number) =>
  wholeNumber(option, value, fallback, max, "");

function limit(option: string, value: LimitOptions | undefined, fallback: LimitOptions): LimitOptions {
  if (value === undefined) return fallback;
  return Object.freeze({
    max: count(`${option}.max`, value.max, fallback.max, 1_000_000),
    windowSeconds: seconds(`${option}.windowSeconds`, value.windowSeconds, fallback.windowSeconds),
  });
}

const LABEL_MAX = 100;

/**
 * A rule's `label`: shown to users as text (escaped on the pages, a text node in the modal), so the
 * check is about sense, not safety: 1-100 characters, not blank, no control characters.
 */
function ruleLabel(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== "string" ||
    value.trim().length === 0 ||
    [...value].length > LABEL_MAX ||
    /\p{Cc}/u.test(value)
  ) {
    fail(`${option}.label`, `must be 1-${LABEL_MAX} characters of text, like "open the admin panel"`);
  }
  return value;
}

/** Validates a rule's fields against the configured factors. */
export function resolveRule(
  option: string,
  resource: string,
  action: string,
  input: RuleOptions,
  base: Omit<Rule, "resource" | "action">,
  plugins: ReadonlyMap<string, FactorPlugin>,
): Rule {
  if (!NAME.test(resource)) fail(`${option}.resource`, "must be 1-64 of A-Z a-z 0-9 _ . -");
  if (!NAME.test(action)) fail(`${option}.action`, "must be 1-64 of A-Z a-z 0-9 _ . -");
  const level = input.level ?? base.level;
  if (!LEVELS.includes(level)) fail(`${option}.level`, `must be one of ${LEVELS.join(", ")}`);
  const match = input.match ?? base.match;
  if (!MATCHES.includes(match)) fail(`${option}.match`, `must be one of ${MATCHES.join(", ")}`);
  const factors = input.factors ?? base.factors;
  if (!Array.isArray(factors) || factors.length === 0)
    fail(`${option}.factors`, "must list at least one factor");
  for (const f of factors)
    if (!plugins.has(f)) fail(`${option}.factors`, `names "${f}", which is not configured`);
  // A level none of its factors can reach would challenge for ever and never pass.
  if (!factors.some((f) => meetsLevel(plugins.get(f)?.level ?? "mfa", level))) {
    fail(`${option}.level`, `is "${level}", but none of its factors reach it (add webauthn to \`factors\`)`);
  }
  const userVerification = input.userVerification ?? base.userVerification;
  if (userVerification !== "required" && userVerification !== "preferred") {
    fail(`${option}.userVerification`, 'must be "required" or "preferred"');
  }
  // Only factors that can verify the user (WebAuthn) can meet "required": a rule none of whose
  // factors can would never pass.
  if (userVerification === "required" && !factors.some((f) => plugins.get(f)?.verifiesUser === true)) {
    fail(
      `${option}.userVerification`,
      'is "required", but none of its factors can verify the user (add webauthn)',
    );
  }
  const label = ruleLabel(option, input.label) ?? base.label;
  const allowTrustedDevice = input.allowTrustedDevice ?? base.allowTrustedDevice;
  if (typeof allowTrustedDevice !== "boolean") fail(`${option}.allowTrustedDevice`, "must be a boolean");
  return Object.freeze({
    resource,
    action,
    maxAge: seconds(`${option}.maxAge`, input.maxAge, base.maxAge),
    level,
    factors: Object.freeze([...factors]),
    match,
    userVerification,
    ...(label === undefined ? {} : { label }),
    policy: resolveRulePolicy(`${option}.policy`, input.policy, base.policy),
    allowTrustedDevice,
  });
}

function resolveLockout(input: LockoutOptions): Required<LockoutOptions> {
  const maxFailures = count("limits.lockout.maxFailures", input.maxFailures, 100, 100);
  const delayAfter =
    input.delayAfter === 0 ? 0 : count("limits.lockout.delayAfter", input.delayAfter, 10, maxFailures);
  return Object.freeze({
    maxFailures,
    delayAfter,
    maxDelaySeconds: seconds("limits.lockout.maxDelaySeconds", input.maxDelaySeconds, 900, 86_400),
  });
}

const consoleLogger: Logger = {
  warn: (message, meta) => console.warn(`[stepup] ${message}`, meta ?? ""),
  error: (message, meta) => console.error(`[stepup] ${message}`, meta ?? ""),
};

/** Validates options once, at start-up; a bad option throws a `TypeError` naming it. */
export function resolveConfig(options: StepUpOptions): ResolvedConfig {
  if (typeof options !== "object" || options === null) fail("options", "must be an object");
  const store = options.store;
  if (!store || typeof store.getMany !== "function")
    fail("store", "must be a Store (memoryStore() or redisStore())");
  const secrets = typeof options.secret === "string" ? [options.secret] : options.secret;
  if (!Array.isArray(secrets) || secrets.length === 0) fail("secret", "is required");
  for (const s of secrets) {
    if (typeof s !== "string" || s.length < 32) fail("secret", "must be at least 32 characters");
  }
  if (typeof options.appName !== "string" || options.appName.trim() === "")
    fail("appName", "must be a non-empty string");
  if (!Array.isArray(options.factors) || options.factors.length === 0)
    fail("factors", "must list at least one factor");
  const factors = new Map<string, FactorPlugin>();
  for (const f of options.factors) {
    if (!f || typeof f.type !== "string" || typeof f.verify !== "function")
      fail("factors", "must hold factor plugins");
    if (factors.has(f.type)) fail("factors", `lists "${f.type}" twice`);
    factors.set(f.type, f);
  }
  const types = [...factors.keys()];
  const d = options.defaults ?? {};
  // A label names one action: as a default it would put one action's words on every other.
  if (d.label !== undefined) fail("defaults.label", "is per rule: give it in `rules` or the guard");
  const policy = resolveGlobalPolicy(options.policy);
  const defaults = resolveRule(
    "defaults",
    "default",
    "default",
    d,
    {
      maxAge: 300,
      level: "mfa",
      factors: types,
      match: "session",
      userVerification: "preferred",
      policy: policy.base,
      allowTrustedDevice: false,
    },
    factors,
  );
  const rules = new Map<string, Rule>();
  for (const [key, rule] of Object.entries(options.rules ?? {})) {
    const parts = key.split(":");
    if (parts.length !== 2) fail(`rules["${key}"]`, 'must be keyed "resource:action"');
    const [resource = "", action = ""] = parts;
    rules.set(key, resolveRule(`rules["${key}"]`, resource, action, rule, defaults, factors));
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== "function")
    fail("onEvent", "must be a function");
  if (options.notify !== undefined && options.notify !== false && typeof options.notify !== "function")
    fail("notify", "must be a function or false");
  const l = options.limits ?? {};
  return Object.freeze({
    store,
    storeTimeoutMs: wholeNumber("storeTimeoutMs", options.storeTimeoutMs, 2000, 60_000, " of milliseconds"),
    secrets: Object.freeze([...secrets]),
    appName: options.appName,
    factors,
    rules,
    defaults,
    policy,
    limits: Object.freeze({
      perChallenge: count("limits.perChallenge", l.perChallenge, 5, 1000),
      perFactor: limit("limits.perFactor", l.perFactor, { max: 20, windowSeconds: 900 }),
      perIp: limit("limits.perIp", l.perIp, { max: 100, windowSeconds: 900 }),
      lockout: resolveLockout(l.lockout ?? {}),
    }),
    challengeTtl: seconds("challengeTtl", options.challengeTtl, 600, 86_400),
    sessionTtl: seconds("sessionTtl", options.sessionTtl, 86_400),
    onEvent: options.onEvent,
    notify: options.notify === false ? undefined : (options.notify ?? defaultNotifier(factors)),
    tokens: resolveTokenOptions(options.tokens),
    webhooks: resolveWebhookOptions(options.webhooks),
    logger: options.logger ?? consoleLogger,
    clock: options.clock ?? systemClock,
    randomBytes: options.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n))),
  });
}
