import type { StepUpEvent } from "../audit/events.js";
import type { EngineContext } from "../internal/engine-context.js";
import { parseRecord } from "../internal/records.js";
import { signWebhook } from "./signature.js";
import type { ResolvedEndpoint, ResolvedWebhooks } from "./webhook-options.js";

/** The outbox's scope: apart from every user's (no user-controlled id can address it). */
export const WEBHOOK_SCOPE = "stepup:webhooks";
const OUTBOX = "outbox";
const disabledKey = (endpoint: string) => `disabled:${endpoint}`;
/** Items one worker takes at a time. */
const BATCH = 20;
/** Bounds of the wait before a process looks again at an item for an endpoint it does not know. */
const FOREIGN_MIN_DELAY_MS = 1000;
const FOREIGN_MAX_DELAY_MS = 300_000;

/** One delivery to one endpoint, as the outbox keeps it. */
interface OutboxItem {
  /** The endpoint's key (a digest of its URL). */
  endpoint: string;
  /** Failed attempts so far. */
  attempts: number;
  event: StepUpEvent;
}

/** What one delivery attempt came to. */
type Outcome = "delivered" | "retry" | "gave-up" | "disabled" | "dropped" | "passed";

/**
 * Webhooks from a durable outbox (Standard Webhooks). `record` writes one item per endpoint into
 * the store before the request that caused the event answers; a worker in every process claims
 * due items (the claim is atomic, with a lease longer than a delivery may take, so one event is
 * never being delivered by two workers at once), POSTs them signed, and settles them: delivered,
 * rescheduled with backoff (the same `webhook-id` every time), or given up after the schedule. A
 * 410 answer disables the endpoint for every process until `enable(url)`.
 */
export function createWebhooks(ctx: EngineContext, options: ResolvedWebhooks) {
  const { store, config } = ctx;
  const log = config.logger;
  const byKey = new Map(options.endpoints.map((e) => [e.key, e]));
  // Longer than a delivery can take: a live worker always settles before anyone else may claim.
  const leaseMs = 2 * options.timeoutMs + 5000;
  // How long an event may wait for delivery: the whole retry schedule.
  const windowMs = options.retrySchedule.reduce((sum, s) => sum + s * 1000, 0);
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const wants = (endpoint: ResolvedEndpoint, event: StepUpEvent, webhook: boolean) =>
    (event.type !== "track" || webhook) && (endpoint.events === undefined || endpoint.events.has(event.type));

  /** Where a URL is logged: its origin only (a path or query may carry a receiver's token). */
  const origin = (url: string) => new URL(url).origin;

  async function attempt(endpoint: ResolvedEndpoint, event: StepUpEvent): Promise<number> {
    const body = JSON.stringify({ type: event.type, timestamp: event.at, data: event });
    const headers = signWebhook(event.id, Math.floor(ctx.now() / 1000), body, endpoint.secrets);
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": "stepup-webhooks" },
        body,
        // A redirect could point anywhere: it is a failed delivery, never followed.
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    } catch {
      return 0; // refused, reset, timed out: retried like a 5xx
    }
  }

  async function deliver(
    raw: { id: string; value: string },
    disabled: ReadonlySet<string>,
  ): Promise<Outcome> {
    const item = parseRecord<OutboxItem>(raw.value);
    if (!item) {
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
      log.warn("webhook dropped: unreadable outbox item", { id: raw.id });
      return "dropped";
    }
    const endpoint = byKey.get(item.endpoint);
    if (!endpoint) {
      // Not one of this process's endpoints, but maybe another process's: during a rolling deploy
      // that adds or moves an endpoint, old and new processes share the outbox. Put it back for
      // them, unchanged, to look at again after about a tenth of its age (1 s to 5 min: a young
      // event is handed over within seconds; an orphan costs a few hundred cheap looks over the
      // default schedule's 27 h), jittered so that no process's poll stays in step with it. Only
      // once it is older than the whole retry schedule has nobody delivered it: the endpoint is
      // gone everywhere.
      const age = ctx.now() - Date.parse(String(item.event?.at));
      if (!(age <= windowMs)) {
        await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
        log.warn("webhook dropped: its endpoint is no longer configured", { id: raw.id });
        return "dropped";
      }
      const base = Math.min(FOREIGN_MAX_DELAY_MS, Math.max(FOREIGN_MIN_DELAY_MS, age / 10));
      const delay = Math.round(base * (0.75 + Math.random() / 2));
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, { value: raw.value, dueMs: ctx.now() + delay });
      return "passed";
    }
    if (disabled.has(endpoint.key)) {
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
      return "dropped";
    }
    const status = await attempt(endpoint, item.event);
    if (status >= 200 && status < 300) {
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
      return "delivered";
    }
    if (status === 410) {
      // "Gone": the receiver asks for no more. Every process stops sending to it.
      await store.set(WEBHOOK_SCOPE, disabledKey(endpoint.key), String(ctx.now()), null);
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
      log.warn("webhook endpoint disabled: it answered 410 Gone", { endpoint: origin(endpoint.url) });
      return "disabled";
    }
    const attempts = item.attempts + 1;
    const delay = options.retrySchedule[attempts - 1];
    if (delay === undefined) {
      await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, null);
      log.error("webhook given up after every retry", {
        endpoint: origin(endpoint.url),
        id: item.event.id,
        type: item.event.type,
        attempts,
        status,
      });
      return "gave-up";
    }
    await store.settle(WEBHOOK_SCOPE, OUTBOX, raw.id, {
      value: JSON.stringify({ ...item, attempts }),
      dueMs: ctx.now() + Math.round(delay * 1000),
    });
    return "retry";
  }

  async function disabledEndpoints(): Promise<Set<string>> {
    const keys = options.endpoints.map((e) => e.key);
    const marks = await store.getMany(WEBHOOK_SCOPE, keys.map(disabledKey));
    return new Set(keys.filter((_, i) => marks[i] !== null));
  }

  /** Claims and delivers what is due now, batch after batch; how many items it handled. */
  async function deliverDue(): Promise<number> {
    let handled = 0;
    for (;;) {
      const items = await store.claim(WEBHOOK_SCOPE, OUTBOX, ctx.now(), leaseMs, BATCH);
      if (items.length === 0) return handled;
      const disabled = await disabledEndpoints();
      await Promise.all(items.map((item) => deliver(item, disabled)));
      handled += items.length;
      if (items.length < BATCH) return handled;
    }
  }

  /** One pass of the worker; a kick during a pass runs another right after it. */
  function tick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await deliverDue();
        } catch (error) {
          // The store is down or slow: the items stay in the outbox for the next pass.
          log.error("webhook worker pass failed", {
            error: error instanceof Error ? error.name : String(error),
          });
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    /**
     * Writes the event into the outbox, one item per endpoint that takes it; resolves once it is
     * stored. `webhook` is false for a `track` event that did not ask for delivery.
     */
    async record(event: StepUpEvent, webhook: boolean): Promise<void> {
      const targets = options.endpoints.filter((e) => wants(e, event, webhook));
      if (targets.length === 0) return;
      const now = ctx.now();
      await Promise.all(
        targets.map((e) =>
          store.enqueue(
            WEBHOOK_SCOPE,
            OUTBOX,
            `${e.key}.${event.id}`,
            JSON.stringify({ endpoint: e.key, attempts: 0, event } satisfies OutboxItem),
            now,
          ),
        ),
      );
      if (timer !== undefined && !closed) queueMicrotask(() => void tick());
    },

    /** Delivers what is due now (for your own scheduler, with `worker: false`; tests). */
    deliverDue,

    /** Starts the worker (when `worker` is not false). */
    start(): void {
      if (!options.worker || timer !== undefined || closed) return;
      timer = setInterval(() => void tick(), options.pollIntervalMs);
      // The worker never keeps a process alive on its own.
      timer.unref?.();
      void tick();
    },

    /** Stops the worker and waits for the pass in flight. */
    async close(): Promise<void> {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await running;
    },

    /** The endpoints and whether each is disabled (a 410). */
    async status(): Promise<{ url: string; disabled: boolean }[]> {
      const disabled = await disabledEndpoints();
      return options.endpoints.map((e) => ({ url: e.url, disabled: disabled.has(e.key) }));
    },

    /** Sends to an endpoint again after it answered 410 (new events; those dropped stay dropped). */
    async enable(url: string): Promise<void> {
      const endpoint = options.endpoints.find((e) => e.url === new URL(url).href);
      if (!endpoint) throw new TypeError(`stepup: no webhook endpoint ${JSON.stringify(url)} is configured`);
      await store.delete(WEBHOOK_SCOPE, [disabledKey(endpoint.key)]);
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
