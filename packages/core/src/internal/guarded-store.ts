import { storeUnavailable } from "../errors.js";
import type { Store } from "../store/store.js";

/**
 * Wraps a store so that any failure becomes STORE_UNAVAILABLE (503): a store that cannot answer
 * must never be read as "no record", or a broken Redis would open every door (fail closed).
 * A store that hangs is a failure too: each call that has not settled within `timeoutMs`
 * (milliseconds, the resolved `storeTimeoutMs`) rejects, so a stalled Redis (connection open, no
 * replies) answers 503 instead of hanging every guarded request. A call that timed out may still be
 * applied by the store later (Redis runs what it already received); the request has failed closed.
 */
export function guardedStore(store: Store, timeoutMs: number): Store {
  // Not an async wrapper (each layer adds promises, and the guard's hot path goes through here):
  // one plain promise and one timer per call, the timer cleared as soon as the call settles.
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        const timer = setTimeout(() => reject(storeUnavailable(timedOut(timeoutMs))), timeoutMs);
        // A deadline alone must not keep the process alive (a graceful shutdown would wait on it).
        timer.unref();
        const fail = (error: unknown): void => {
          clearTimeout(timer);
          reject(storeUnavailable(error));
        };
        try {
          fn(...args).then((value) => {
            clearTimeout(timer);
            resolve(value);
          }, fail);
        } catch (error) {
          fail(error);
        }
      });
  return {
    getMany: wrap(store.getMany.bind(store)),
    // Synchronous and in memory: nothing to wait for, nothing to time out.
    ...(store.peek ? { peek: store.peek.bind(store) } : {}),
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
    appendAfter: wrap(store.appendAfter.bind(store)),
    enqueue: wrap(store.enqueue.bind(store)),
    claim: wrap(store.claim.bind(store)),
    settle: wrap(store.settle.bind(store)),
  };
}

/** The logged cause of a deadline miss: the platform's own timeout error (what `AbortSignal.timeout` raises). */
function timedOut(timeoutMs: number): DOMException {
  return new DOMException(`store call did not settle within ${timeoutMs} ms`, "TimeoutError");
}
