import type { ResolvedConfig } from "../config.js";
import type { FactorContext } from "../factors/factor.js";
import type { SecurityNotice } from "../factors/one-time-code/messages.js";
import type { Store } from "../store/store.js";
import type { FactorRecord, StepUpEvent, StepUpUser } from "../types.js";
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
  /** Emits an event without letting a failing hook break the request. */
  emit(event: Omit<StepUpEvent, "atMs">): void;
  /** Where emitted events are also recorded (the audit log), without holding up the request. */
  recorders: ((event: StepUpEvent) => Promise<unknown>)[];
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
    emit(event) {
      const full = { ...event, atMs: now() };
      for (const record of this.recorders) {
        record(full).catch((error: unknown) =>
          config.logger.error("audit record failed", { type: event.type, error: String(error) }),
        );
      }
      const hook = config.onEvent;
      if (!hook) return;
      try {
        Promise.resolve(hook(full)).catch((error: unknown) =>
          config.logger.error("onEvent hook failed", { type: event.type, error: String(error) }),
        );
      } catch (error) {
        config.logger.error("onEvent hook failed", { type: event.type, error: String(error) });
      }
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
        emit: (event) => {
          this.emit({ ...event, userId: user.id });
          if (event.type === "recovery.used") this.notify(user, "recovery.used", ip ? { ip } : {});
        },
      };
    },
  };
}
