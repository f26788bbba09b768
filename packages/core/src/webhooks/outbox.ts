import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { StepUpEvent } from "../audit/events.js";
import type { EngineContext } from "../internal/engine-context.js";
import { parseRecord } from "../internal/records.js";
import { signWebhook } from "./signature.js";
import type { ResolvedEndpoint, ResolvedWebhooks } from "./webhook-options.js";

/** The outbox's scope: apart from every user's (no user-controlled id can address it). */
export const WEBHOOK_SCOPE = "stepup:webhooks";
/**
 * One queue per endpoint (by the digest of its URL): a process claims only the queues of the
 * endpoints it is configured with, so during a rolling deploy that adds or moves an endpoint, old
 * processes never touch the new endpoint's items; and a hung endpoint holds up only its own queue.
 */
export const outboxKey = (endpoint: string) => `outbox:${endpoint}`;
const disabledKey = (endpoint: string) => `disabled:${endpoint}`;
/** Items one worker takes at a time. */
const BATCH = 20;

/** One delivery to one endpoint, as the outbox keeps it. */
interface OutboxItem {
  /** The endpoint's key (a digest of its URL). */
  endpoint: string;
  /** Failed attempts so far. */
  attempts: number;
  event: StepUpEvent;
}

/** What one delivery attempt came to. */
type Outcome = "delivered" | "retry" | "gave-up" | "disabled" | "dropped";

/**
 * Webhooks from a durable outbox (Standard Webhooks). `record` writes one item per endpoint into
 * that endpoint's queue before the request that caused the event answers; a worker in every
 * process runs one lane per endpoint that claims due items (the claim is atomic, with a lease longer
 * than a delivery may take, so one event is never being delivered by two workers at once), POSTs
 * them signed, and settles them: delivered, rescheduled with backoff (the same `webhook-id` every
 * time), or given up after the schedule. A 410 answer disables the endpoint for every process until
 * `enable(url)`. An endpoint removed from every process's options leaves its queue unread.
 */
export function createWebhooks(ctx: EngineContext, options: ResolvedWebhooks) {
  const { store, config } = ctx;
  const log = config.logger;
  // Longer than a delivery can take: a live worker always settles before anyone else may claim.
  const leaseMs = 2 * options.timeoutMs + 5000;
  // Keep-alive connections to the receivers (few endpoints, a handful of sockets each).
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 8 });
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const wants = (endpoint: ResolvedEndpoint, event: StepUpEvent, webhook: boolean) =>
    (event.type !== "track" || webhook) && (endpoint.events === undefined || endpoint.events.has(event.type));

  /** Where a URL is logged: its origin only (a path or query may carry a receiver's token). */
  const origin = (url: string) => new URL(url).origin;

  async function attempt(endpoint: ResolvedEndpoint, event: StepUpEvent): Promise<number> {
    const body = JSON.stringify({ type: event.type, timestamp: event.at, data: event });
    const headers = signWebhook(event.id, Math.floor(ctx.now() / 1000), body, endpoint.secrets);
    const url = new URL(endpoint.url);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<number>((resolve) => {
      // node:http rather than fetch: a fraction of the CPU per delivery, and it never follows a
      // redirect (a 3xx could point anywhere: it is a failed delivery).
      const req = send(url, {
        method: "POST",
        agent: url.protocol === "https:" ? httpsAgent : httpAgent,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "stepup-webhooks",
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      req.once("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // Refused, reset, timed out: retried like a 5xx.
      req.once("error", () => resolve(0));
      req.end(body);
    });
  }

  async function deliver(endpoint: ResolvedEndpoint, raw: { id: string; value: string }): Promise<Outcome> {
    const queue = outboxKey(endpoint.key);
    const item = parseRecord<OutboxItem>(raw.value);
    if (!item?.event) {
      await store.settle(WEBHOOK_SCOPE, queue, raw.id, null);
      log.warn("webhook dropped: unreadable outbox item", { id: raw.id });
      return "dropped";
    }
    const status = await attempt(endpoint, item.event);
    if (status >= 200 && status < 300) {
      await store.settle(WEBHOOK_SCOPE, queue, raw.id, null);
      return "delivered";
    }
    if (status === 410) {
      // "Gone": the receiver asks for no more. Every process stops sending to it.
      await store.set(WEBHOOK_SCOPE, disabledKey(endpoint.key), String(ctx.now()), null);
      await store.settle(WEBHOOK_SCOPE, queue, raw.id, null);
      log.warn("webhook endpoint disabled: it answered 410 Gone", { endpoint: origin(endpoint.url) });
      return "disabled";
    }
    const attempts = item.attempts + 1;
    const delay = options.retrySchedule[attempts - 1];
    if (delay === undefined) {
      await store.settle(WEBHOOK_SCOPE, queue, raw.id, null);
      log.error("webhook given up after every retry", {
        endpoint: origin(endpoint.url),
        id: item.event.id,
        type: item.event.type,
        attempts,
        status,
      });
      return "gave-up";
    }
    await store.settle(WEBHOOK_SCOPE, queue, raw.id, {
      value: JSON.stringify({ ...item, attempts }),
      dueMs: ctx.now() + Math.round(delay * 1000),
    });
    return "retry";
  }

  /** Claims and delivers what is due now in one endpoint's queue, batch after batch. */
  async function deliverDueTo(endpoint: ResolvedEndpoint): Promise<number> {
    const queue = outboxKey(endpoint.key);
    let handled = 0;
    for (;;) {
      const items = await store.claim(WEBHOOK_SCOPE, queue, ctx.now(), leaseMs, BATCH);
      if (items.length === 0) return handled;
      const [disabled] = await store.getMany(WEBHOOK_SCOPE, [disabledKey(endpoint.key)]);
      if (disabled !== null) {
        // 410 earlier: what is queued for it is dropped (new events are not queued at all).
        await Promise.all(items.map((item) => store.settle(WEBHOOK_SCOPE, queue, item.id, null)));
      } else {
        await Promise.all(items.map((item) => deliver(endpoint, item)));
      }
      handled += items.length;
      if (items.length < BATCH) return handled;
    }
  }

  /** Delivers what is due now to every endpoint (each in its own lane); how many items it handled. */
  async function deliverDue(): Promise<number> {
    const counts = await Promise.all(options.endpoints.map((e) => lanes.get(e.key)?.run() ?? 0));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * One endpoint's worker: one pass at a time, and a kick during a pass runs another right after
   * it, so a hung receiver delays only its own queue.
   */
  function lane(endpoint: ResolvedEndpoint) {
    let running: Promise<number> | undefined;
    let again = false;
    return {
      run(): Promise<number> {
        if (running) {
          again = true;
          return running;
        }
        running = (async () => {
          let handled = 0;
          do {
            again = false;
            try {
              handled += await deliverDueTo(endpoint);
            } catch (error) {
              // The store is down or slow: the items stay in the outbox for the next pass.
              log.error("webhook worker pass failed", {
                endpoint: origin(endpoint.url),
                error: error instanceof Error ? error.name : String(error),
              });
            }
          } while (again && !closed);
          return handled;
        })().finally(() => {
          running = undefined;
        });
        return running;
      },
      idle: () => running ?? Promise.resolve(0),
    };
  }
  const lanes = new Map(options.endpoints.map((e) => [e.key, lane(e)]));
  const tick = () => {
    for (const l of lanes.values()) void l.run();
  };

  async function disabledEndpoints(): Promise<Set<string>> {
    const keys = options.endpoints.map((e) => e.key);
    const marks = await store.getMany(WEBHOOK_SCOPE, keys.map(disabledKey));
    return new Set(keys.filter((_, i) => marks[i] !== null));
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
            outboxKey(e.key),
            `${e.key}.${event.id}`,
            JSON.stringify({ endpoint: e.key, attempts: 0, event } satisfies OutboxItem),
            now,
          ),
        ),
      );
      if (timer !== undefined && !closed) queueMicrotask(tick);
    },

    /** Delivers what is due now (for your own scheduler, with `worker: false`; tests). */
    deliverDue,

    /** Starts the worker (when `worker` is not false). */
    start(): void {
      if (!options.worker || timer !== undefined || closed) return;
      timer = setInterval(tick, options.pollIntervalMs);
      // The worker never keeps a process alive on its own.
      timer.unref?.();
      tick();
    },

    /** Stops the worker and waits for the pass in flight. */
    async close(): Promise<void> {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await Promise.all([...lanes.values()].map((l) => l.idle()));
      httpAgent.destroy();
      httpsAgent.destroy();
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
