import type { EngineContext } from "../internal/engine-context.js";
import type { EventMetadata, EventSeverity, StepUpEvent } from "./events.js";

/** What `track()` records: the app's own sensitive action. */
export interface TrackInput {
  /** What happened, e.g. `payout.approved`: letters, digits, `.`, `_`, `:`, `-`, at most 100. */
  tag: string;
  /** @default "low" */
  severity?: EventSeverity;
  /** How it ended, e.g. `succeeded`, `failed`, `blocked` (same characters, at most 64). @default "succeeded" */
  status?: string;
  /**
   * Safe details: at most 20 keys, short strings, numbers and booleans, 4 KiB in all. Never a
   * password, code, token or full card number: webhooks and the audit log keep what you give.
   */
  metadata?: Record<string, string | number | boolean>;
}

/** Options of one `track()` call. */
export interface TrackOptions {
  /** Deliver the event to the webhook endpoints that take `track` (it is always in the audit log). */
  webhook?: boolean;
  /** The client address (the HTTP adapters fill it in). */
  ip?: string;
}

const NAME = /^[A-Za-z0-9._:-]+$/;
const SEVERITIES: readonly EventSeverity[] = ["low", "medium", "high", "critical"];

const bad = (field: string, expected: string): never => {
  throw new TypeError(`stepup: track(): \`${field}\` ${expected}`);
};

function checkMetadata(metadata: unknown): EventMetadata | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    return bad("metadata", "must be an object of strings, numbers and booleans");
  const entries = Object.entries(metadata);
  if (entries.length > 20) bad("metadata", "has more than 20 keys");
  for (const [key, value] of entries) {
    if (!NAME.test(key) || key.length > 64)
      bad(`metadata.${key}`, "must be named with letters, digits, . _ : - (at most 64)");
    const ok =
      (typeof value === "string" && value.length <= 500) ||
      (typeof value === "number" && Number.isFinite(value)) ||
      typeof value === "boolean";
    if (!ok) bad(`metadata.${key}`, "must be a string (at most 500), a finite number or a boolean");
  }
  if (JSON.stringify(metadata).length > 4096) bad("metadata", "is over 4 KiB");
  return Object.freeze(Object.fromEntries(entries)) as EventMetadata;
}

/** `track()`: validates the app's action and emits it like stepup's own events (audit, webhooks). */
export function createTrack(ctx: EngineContext) {
  return async function track(
    userId: string,
    input: TrackInput,
    opts: TrackOptions = {},
  ): Promise<StepUpEvent> {
    if (typeof userId !== "string" || userId === "") bad("user", "must be a user id");
    if (typeof input !== "object" || input === null)
      bad("input", "must be { tag, severity?, status?, metadata? }");
    const { tag, severity = "low", status = "succeeded" } = input;
    if (typeof tag !== "string" || tag.length > 100 || !NAME.test(tag))
      bad("tag", "must be 1 to 100 letters, digits, . _ : -");
    if (!SEVERITIES.includes(severity)) bad("severity", `must be one of ${SEVERITIES.join(", ")}`);
    if (typeof status !== "string" || status.length > 64 || !NAME.test(status))
      bad("status", "must be 1 to 64 letters, digits, . _ : -");
    const metadata = checkMetadata(input.metadata);
    return ctx.emit({
      type: "track",
      userId,
      tag,
      status,
      severity,
      ...(metadata ? { metadata } : {}),
      ...(opts.ip ? { ip: opts.ip } : {}),
      webhook: opts.webhook === true,
    });
  };
}
