import type { FactorStore } from "../factors/factor.js";
import type { Store } from "../store/store.js";
import { keys } from "./keys.js";

/**
 * A factor plugin's view of the store: one scope (the signed-in user's, or the plugin's shared
 * scope), every key under the plugin's own prefix. A plugin cannot read or write the engine's keys
 * (sessions, counters, locks) or another plugin's, whatever key names it picks.
 */
export function factorStore(store: Store, scope: string, type: string): FactorStore {
  const k = (key: string) => keys.plugin(type, key);
  return Object.freeze({
    get: async (key: string) => (await store.getMany(scope, [k(key)]))[0] ?? null,
    set: (key: string, value: string, ttlSeconds: number | null) =>
      store.set(scope, k(key), value, ttlSeconds),
    setIfAbsent: (key: string, value: string, ttlSeconds: number | null) =>
      store.setIfAbsent(scope, k(key), value, ttlSeconds),
    take: (key: string) => store.take(scope, k(key)),
    deleteIfEquals: (key: string, expected: string) => store.deleteIfEquals(scope, k(key), expected),
    increment: (key: string, ttlSeconds: number) => store.increment(scope, k(key), ttlSeconds),
    advance: (key: string, value: number, ttlSeconds: number) =>
      store.advance(scope, k(key), value, ttlSeconds),
    delete: (list: readonly string[]) => store.delete(scope, list.map(k)),
    hashSet: (key: string, field: string, value: string) => store.hashSet(scope, k(key), field, value),
    hashGetAll: (key: string) => store.hashGetAll(scope, k(key)),
    hashDelete: (key: string, field: string) => store.hashDelete(scope, k(key), field),
  });
}
