/**
 * The events stepup records (audit log), hands to `onEvent` and delivers to webhooks. Every event
 * has `id`, `type`, `at`, `userId` and `severity`, and the fields its type has. No event ever
 * carries a code, secret, token, full phone number or email address.
 */

/** How much an event matters to a security team (webhook filters and dashboards). */
export type EventSeverity = "low" | "medium" | "high" | "critical";

/** Extra safe details: short strings, numbers and booleans only. */
export type EventMetadata = Readonly<Record<string, string | number | boolean>>;

interface EventBase<T extends string> {
  /** Unique per event; also the webhook's `webhook-id` (the same on every retry). */
  id: string;
  type: T;
  /** When it happened, ISO 8601. */
  at: string;
  userId: string;
  severity: EventSeverity;
  /** The client address, when the HTTP layer knows it. */
  ip?: string;
  metadata?: EventMetadata;
}

/** A factor's lifecycle: `factorId` names it, `factor` is its type. */
export interface FactorEvent
  extends EventBase<
    "factor.enrolled" | "factor.removed" | "factor.updated" | "recovery.used" | "webauthn.counter_regressed"
  > {
  factor: string;
  factorId: string;
}

/** A challenge opened for a rule (`metadata.challengeId`). */
export interface ChallengeOpenedEvent extends EventBase<"challenge.opened"> {
  resource: string;
  action: string;
}

/** A second factor proved (`metadata.challengeId`). */
export interface VerificationSucceededEvent extends EventBase<"verification.succeeded"> {
  resource: string;
  action: string;
  factor: string;
  factorId: string;
}

/** A wrong answer or a refused attempt (`metadata.reason`: INVALID_CODE, RATE_LIMITED, ...). */
export interface VerificationFailedEvent extends EventBase<"verification.failed"> {
  factor?: string;
  factorId?: string;
  resource?: string;
  action?: string;
}

/**
 * The user's state changed: `lockout` (consecutive failures), `user.unlocked`, `user.reset`,
 * `user.revoked`, `session.revoked`, `credential.changed`, `recovery.regenerated`,
 * `device.trusted` and `device.revoked` (`metadata.deviceId`). An administrator's action carries
 * `metadata.by` (the administrator's id).
 */
export interface UserEvent
  extends EventBase<
    | "lockout"
    | "user.unlocked"
    | "user.reset"
    | "user.revoked"
    | "session.revoked"
    | "credential.changed"
    | "recovery.regenerated"
    | "device.trusted"
    | "device.revoked"
  > {
  factor?: string;
}

/** A policy's decision (`metadata.decision`: REVIEW, or in log-only mode what would have happened). */
export interface PolicyDecisionEvent extends EventBase<"policy.decision"> {
  resource: string;
  action: string;
}

/** A sign-in completed with a second factor. */
export interface SignInCompletedEvent extends EventBase<"signin.completed"> {
  factor?: string;
}

/** A step-up token minted for a rule. */
export interface TokenIssuedEvent extends EventBase<"token.issued"> {
  resource: string;
  action: string;
}

/** The app's own action, from `track()`. */
export interface TrackEvent extends EventBase<"track"> {
  /** What happened, e.g. `payout.approved`. */
  tag: string;
  /** How it ended, e.g. `succeeded`, `failed`. */
  status: string;
}

export type StepUpEvent =
  | FactorEvent
  | ChallengeOpenedEvent
  | VerificationSucceededEvent
  | VerificationFailedEvent
  | UserEvent
  | PolicyDecisionEvent
  | SignInCompletedEvent
  | TokenIssuedEvent
  | TrackEvent;

export type StepUpEventType = StepUpEvent["type"];

/** Every event type, in one place (webhook filters are checked against it). */
export const EVENT_TYPES: readonly StepUpEventType[] = Object.freeze([
  "factor.enrolled",
  "factor.removed",
  "factor.updated",
  "challenge.opened",
  "verification.succeeded",
  "verification.failed",
  "lockout",
  "user.unlocked",
  "recovery.used",
  "recovery.regenerated",
  "device.trusted",
  "device.revoked",
  "session.revoked",
  "user.revoked",
  "user.reset",
  "credential.changed",
  "policy.decision",
  "signin.completed",
  "token.issued",
  "webauthn.counter_regressed",
  "track",
]);

const SEVERITY: Record<StepUpEventType, EventSeverity> = {
  "factor.enrolled": "medium",
  "factor.removed": "high",
  "factor.updated": "low",
  "challenge.opened": "low",
  "verification.succeeded": "low",
  "verification.failed": "medium",
  lockout: "high",
  "user.unlocked": "medium",
  "recovery.used": "high",
  "recovery.regenerated": "medium",
  "device.trusted": "medium",
  "device.revoked": "low",
  "session.revoked": "low",
  "user.revoked": "medium",
  "user.reset": "high",
  "credential.changed": "medium",
  "policy.decision": "medium",
  "signin.completed": "low",
  "token.issued": "low",
  "webauthn.counter_regressed": "critical",
  track: "low",
};

/** What the engine's parts hand to `emit`: the public event is built from it (id, time, severity). */
export interface EmittedEvent {
  type: StepUpEventType;
  userId: string;
  ip?: string | undefined;
  resource?: string;
  action?: string;
  factor?: string;
  factorId?: string;
  severity?: EventSeverity;
  tag?: string;
  status?: string;
  /** Folded into `metadata`. */
  reason?: string;
  decision?: string;
  deviceId?: string;
  challengeId?: string;
  by?: string;
  metadata?: EventMetadata;
  /** Deliver to webhooks (default: yes, except a `track` event, which must ask). */
  webhook?: boolean;
}

/** Builds the public event: fields in a fixed order, short details folded into `metadata`. */
export function buildEvent(e: EmittedEvent, id: string, atMs: number): StepUpEvent {
  const metadata: Record<string, string | number | boolean> = { ...e.metadata };
  if (e.reason) metadata.reason = e.reason;
  if (e.decision) metadata.decision = e.decision;
  if (e.deviceId) metadata.deviceId = e.deviceId;
  if (e.challengeId) metadata.challengeId = e.challengeId;
  if (e.by) metadata.by = e.by;
  const event = {
    id,
    type: e.type,
    at: new Date(atMs).toISOString(),
    userId: e.userId,
    severity: e.severity ?? SEVERITY[e.type],
    ...(e.ip ? { ip: e.ip } : {}),
    ...(e.resource ? { resource: e.resource } : {}),
    ...(e.action ? { action: e.action } : {}),
    ...(e.factor ? { factor: e.factor } : {}),
    ...(e.factorId ? { factorId: e.factorId } : {}),
    ...(e.tag !== undefined ? { tag: e.tag } : {}),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
  return event as StepUpEvent;
}
