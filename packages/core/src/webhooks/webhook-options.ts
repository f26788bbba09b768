import { createHash } from "node:crypto";
import { EVENT_TYPES, type StepUpEventType } from "../audit/events.js";
import { decodeWebhookSecret } from "./signature.js";

/** One receiver of webhooks. */
export interface WebhookEndpoint {
  /** Where events are POSTed. `https:` (plain `http:` only to a loopback address, or with `allowHttp`). */
  url: string;
  /**
   * The signing secret, `whsec_<base64>` (see `generateWebhookSecret()`). Several while rotating:
   * each delivery carries one signature per secret, so the receiver can switch at its own pace.
   */
  secret: string | readonly string[];
  /**
   * The event types this endpoint receives; every type when absent. `track` events go only to
   * endpoints that take `track`, and only when `track()` asked for `{ webhook: true }`.
   */
  events?: readonly StepUpEventType[];
  /** Allow a plain `http:` URL to a host that is not loopback (a private network you trust). */
  allowHttp?: boolean;
}

/** Options for `createStepUp({ webhooks })`: signed webhooks (Standard Webhooks) from a durable outbox. */
export interface WebhookOptions {
  endpoints: readonly WebhookEndpoint[];
  /**
   * Seconds to wait before each retry of a failed delivery; after the last one the event is given
   * up (logged). Standard Webhooks' schedule by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
   */
  retrySchedule?: readonly number[];
  /** Milliseconds a receiver has to answer one delivery. @default 10000 */
  timeout?: number;
  /** Milliseconds between two looks at the outbox (a new event is also sent at once). @default 1000 */
  pollInterval?: number;
  /**
   * Run the delivery worker in this process. `false` for processes that only record events (a
   * separate worker process, or your own scheduler calling `webhooks.deliverDue()`). @default true
   */
  worker?: boolean;
}

export interface ResolvedEndpoint {
  /** Stable across restarts with the same URL: names the endpoint in the outbox. */
  key: string;
  url: string;
  secrets: Uint8Array[];
  events: ReadonlySet<StepUpEventType> | undefined;
}

export interface ResolvedWebhooks {
  endpoints: ResolvedEndpoint[];
  retrySchedule: readonly number[];
  timeoutMs: number;
  pollIntervalMs: number;
  worker: boolean;
}

/** An endpoint's name in the outbox: a digest of its (normalised) URL, stable across restarts. */
export const endpointKey = (url: string): string =>
  createHash("sha256").update(new URL(url).href).digest("base64url").slice(0, 16);

const DEFAULT_SCHEDULE = Object.freeze([5, 300, 1800, 7200, 18_000, 36_000, 36_000]);

const fail = (option: string, expected: string): never => {
  throw new TypeError(`stepup: option \`${option}\` ${expected}`);
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function resolveUrl(option: string, raw: unknown, allowHttp: boolean): string {
  if (typeof raw !== "string") return fail(option, "must be an absolute https URL");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(option, "must be an absolute https URL");
  }
  if (url.username || url.password)
    fail(option, "must not carry a user name or password (sign with `secret`)");
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname) && !allowHttp)
    fail(option, "must be https (plain http only to a loopback address, or with `allowHttp: true`)");
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(option, "must be an http(s) URL");
  return url.href;
}

export function resolveWebhookOptions(input: WebhookOptions | undefined): ResolvedWebhooks | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== "object" || input === null) return fail("webhooks", "must be an object");
  if (!Array.isArray(input.endpoints) || input.endpoints.length === 0)
    fail("webhooks.endpoints", "must list at least one endpoint ({ url, secret })");
  const seen = new Set<string>();
  const endpoints = input.endpoints.map((e, i): ResolvedEndpoint => {
    const at = `webhooks.endpoints[${i}]`;
    if (typeof e !== "object" || e === null) return fail(at, "must be an object ({ url, secret })");
    const url = resolveUrl(`${at}.url`, e.url, e.allowHttp === true);
    if (seen.has(url)) fail(`${at}.url`, "is listed twice");
    seen.add(url);
    const list = typeof e.secret === "string" ? [e.secret] : e.secret;
    if (!Array.isArray(list) || list.length === 0)
      fail(`${at}.secret`, "must be a whsec_ secret or a non-empty list of them");
    const secrets = list.map(
      (s) =>
        decodeWebhookSecret(s) ??
        fail(`${at}.secret`, "must be whsec_ and 24 to 64 bytes of base64 (generateWebhookSecret())"),
    );
    let events: Set<StepUpEventType> | undefined;
    if (e.events !== undefined) {
      if (!Array.isArray(e.events) || e.events.length === 0)
        fail(`${at}.events`, "must be a non-empty list of event types");
      for (const type of e.events)
        if (!EVENT_TYPES.includes(type))
          fail(`${at}.events`, `has an unknown event type: ${JSON.stringify(type)}`);
      events = new Set(e.events);
    }
    return { key: endpointKey(url), url, secrets, events };
  });
  const schedule = input.retrySchedule ?? DEFAULT_SCHEDULE;
  if (
    !Array.isArray(schedule) ||
    schedule.length > 20 ||
    !schedule.every((s) => typeof s === "number" && s > 0 && s <= 7 * 86_400)
  )
    fail(
      "webhooks.retrySchedule",
      "must be a list of at most 20 delays in seconds (each > 0, at most 7 days)",
    );
  const timeoutMs = input.timeout ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
    fail("webhooks.timeout", "must be a whole number of milliseconds from 100 to 60000");
  const pollIntervalMs = input.pollInterval ?? 1000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10 || pollIntervalMs > 3_600_000)
    fail("webhooks.pollInterval", "must be a whole number of milliseconds from 10 to 3600000");
  if (input.worker !== undefined && typeof input.worker !== "boolean")
    fail("webhooks.worker", "must be true or false");
  return {
    endpoints,
    retrySchedule: Object.freeze([...schedule]),
    timeoutMs,
    pollIntervalMs,
    worker: input.worker !== false,
  };
}
