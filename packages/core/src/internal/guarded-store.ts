import { storeUnavailable } from "../errors.js";
import type { Store } from "../store/store.js";

/**
 * Wraps a store so that any failure becomes STORE_UNAVAILABLE (503): a store that cannot answer
 * must never be read as "no record", or a broken Redis would open every door (fail closed).
 */
export function guardedStore(store: Store): Store {
  const fail = (error: unknown): never => {
    throw storeUnavailable(error);
  };
  // Not an async wrapper: one promise per call, not three (the guard's hot path goes through here).
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      try {
        return fn(...args).catch(fail);
      } catch (error) {
        return Promise.reject(storeUnavailable(error));
      }
    };
  return {
    getMany: wrap(store.getMany.bind(store)),
    set: wrap(store.set.bind(store)),
    setIfAbsent: wrap(store.setIfAbsent.bind(store)),
    advance: wrap(store.advance.bind(store)),
    append: wrap(store.append.bind(store)),
    list: wrap(store.list.bind(store)),
    take: wrap(store.take.bind(store)),
    increment: wrap(store.increment.bind(store)),
    delete: wrap(store.delete.bind(store)),
    hashSet: wrap(store.hashSet.bind(store)),
    hashReplace: wrap(store.hashReplace.bind(store)),
    hashGetAll: wrap(store.hashGetAll.bind(store)),
    hashDelete: wrap(store.hashDelete.bind(store)),
  };
}
