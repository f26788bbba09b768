import type { ResolvedConfig } from "../config.js";
import type { FactorContext } from "../factors/factor.js";
import type { Store } from "../store/store.js";
import type { StepUpEvent, StepUpUser } from "../types.js";
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
    emit(event) {
      const hook = config.onEvent;
      if (!hook) return;
      try {
        Promise.resolve(hook({ ...event, atMs: now() })).catch((error: unknown) =>
          config.logger.error("onEvent hook failed", { type: event.type, error: String(error) }),
        );
      } catch (error) {
        config.logger.error("onEvent hook failed", { type: event.type, error: String(error) });
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
        emit: (event) => this.emit({ ...event, userId: user.id }),
      };
    },
  };
}
