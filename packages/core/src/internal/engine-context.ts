import { buildEvent, type EmittedEvent, type StepUpEvent } from "../audit/events.js";
import type { ResolvedConfig } from "../config.js";
import type { FactorContext } from "../factors/factor.js";
import type { SecurityNotice } from "../factors/one-time-code/messages.js";
import type { Store } from "../store/store.js";
import type { FactorRecord, StepUpUser } from "../types.js";
import type { Keyring } from "./crypto.js";
import { factorStore } from "./factor-store.js";
import { keys, pluginScope } from "./keys.js";
import { parseFactors } from "./records.js";

/** What the engine's parts share. Built once by `createStepUp`. */
export interface EngineContext {
  config: ResolvedConfig;
  /** The configured store, wrapped so failures become STORE_UNAVAILABLE. */
  store: Store;
  keyring: Keyring;
  now(): number;
  /** A random base64url identifier (128 bits unless told). */
  newId(bytes?: number): string;
  /**
   * Emits an event: recorded (audit log, webhook outbox) before it resolves, so an event is
   * durable before the request that caused it answers; then handed to `onEvent` without waiting.
   * Never rejects: a failing recorder or hook is logged, not thrown into the request.
   */
  emit(event: EmittedEvent): Promise<StepUpEvent>;
  /** Where emitted events are recorded (the audit log, the webhook outbox). */
  recorders: ((event: StepUpEvent, emitted: EmittedEvent) => Promise<unknown>)[];
  /**
   * Tells the user of a security change (the `notify` option), without waiting for or failing on
   * the delivery: a notice must never block or break the request it follows.
   */
  notify(
    user: StepUpUser,
    type: SecurityNotice["type"],
    extra?: { factor?: FactorRecord; ip?: string; device?: string },
  ): void;
  /** What a factor plugin of `type` gets for `user`: its own namespaced view of the store. */
  factorContext(user: StepUpUser, type: string, ip?: string): FactorContext;
}

export function createEngineContext(config: ResolvedConfig, store: Store, keyring: Keyring): EngineContext {
  const now = () => config.clock.now();
  return {
    config,
    store,
    keyring,
    now,
    newId: (bytes = 16) => Buffer.from(config.randomBytes(bytes)).toString("base64url"),
    recorders: [],
    async emit(emitted) {
      const event = buildEvent(emitted, `evt_${this.newId()}`, now());
      const results = await Promise.allSettled(this.recorders.map((record) => record(event, emitted)));
      for (const result of results) {
        if (result.status === "rejected")
          config.logger.error("event record failed", { type: event.type, error: String(result.reason) });
      }
      const hook = config.onEvent;
      if (hook) {
        try {
          Promise.resolve(hook(event)).catch((error: unknown) =>
            config.logger.error("onEvent hook failed", { type: event.type, error: String(error) }),
          );
        } catch (error) {
          config.logger.error("onEvent hook failed", { type: event.type, error: String(error) });
        }
      }
      return event;
    },
    notify(user, type, extra = {}) {
      const deliver = config.notify;
      if (!deliver) return;
      const f = extra.factor;
      const notice: SecurityNotice = {
        type,
        appName: config.appName,
        user,
        at: new Date(now()),
        ...(f
          ? { factor: { type: f.type, title: config.factors.get(f.type)?.ui.title ?? f.type, name: f.name } }
          : {}),
        ...(extra.ip ? { ip: extra.ip } : {}),
        ...(extra.device ? { device: extra.device } : {}),
      };
      const failed = (error: unknown) =>
        config.logger.error("notify failed", {
          type,
          error: error instanceof Error ? error.name : typeof error,
        });
      try {
        Promise.resolve(deliver(notice)).catch(failed);
      } catch (error) {
        failed(error);
      }
    },
    factorContext(user, type, ip) {
      return {
        user,
        ...(ip === undefined ? {} : { ip }),
        appName: config.appName,
        store: factorStore(store, user.id, type),
        shared: factorStore(store, pluginScope(type), type),
        keyring,
        nowMs: now(),
        randomBytes: config.randomBytes,
        logger: config.logger,
        listFactors: async () => parseFactors(await store.hashGetAll(user.id, keys.factors)),
        emit: async (event) => {
          await this.emit({ ...event, userId: user.id, ...(ip ? { ip } : {}) });
          if (event.type === "recovery.used") this.notify(user, "recovery.used", ip ? { ip } : {});
        },
      };
    },
  };
}
