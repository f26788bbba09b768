import { storeUnavailable } from "../errors.js";
import type { Store } from "../store/store.js";

/**
 * Wraps a store so that any failure becomes STORE_UNAVAILABLE (503): a store that cannot answer
 * must never be read as "no record", or a broken Redis would open every door (fail closed).
 * A store that hangs is a failure too: each call that has not settled within `timeoutMs`
 * (milliseconds, the resolved `storeTimeoutMs`; up to a twentieth more, see `deadlineBatches`)
 * rejects, so a stalled Redis (connection open, no replies) answers 503 instead of hanging every
 * guarded request. A call that timed out may still be applied by the store later (Redis runs what
 * it already received); the request has failed closed.
 */
export function guardedStore(store: Store, timeoutMs: number): Store {
  const deadlines = deadlineBatches(timeoutMs);
  // Not an async wrapper (each layer adds promises, and the guard's hot path goes through here):
  // one plain promise per call, and a place in the current batch of deadlines (no timer of its own).
  // The batch holds each call's `reject` itself: no closure of its own per call.
  const within = <R>(call: Promise<R>): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const batch = deadlines.join(reject);
      call.then(
        (value) => {
          batch.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          batch.delete(reject);
          reject(storeUnavailable(error));
        },
      );
    });
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      let call: Promise<R>;
      try {
        call = fn(...args);
      } catch (error) {
        return Promise.reject(storeUnavailable(error));
      }
      return within(call);
    };
  return {
    // The guard's read, on every guarded request: no rest array, no spread, no bound function.
    getMany(scope, keys, options) {
      let call: Promise<(string | null)[]>;
      try {
        call = store.getMany(scope, keys, options);
      } catch (error) {
        return Promise.reject(storeUnavailable(error));
      }
      return within(call);
    },
    // Synchronous and in memory: nothing to wait for, nothing to time out.
    ...(store.peek ? { peek: store.peek.bind(store) } : {}),
    set: wrap(store.set.bind(store)),
    setIfAbsent: wrap(store.setIfAbsent.bind(store)),
    advance: wrap(store.advance.bind(store)),
    append: wrap(store.append.bind(store)),
    list: wrap(store.list.bind(store)),
    take: wrap(store.take.bind(store)),
    deleteIfEquals: wrap(store.deleteIfEquals.bind(store)),
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

/**
 * Deadlines shared by the calls that start within one slice of time (at most 100 ms, a twentieth
 * of the timeout): one timer per slice instead of one per call (a timer is an object, a list
 * insert and a removal: more than the rest of this wrapper on the guard's hot path). A call's
 * deadline is thus between `timeoutMs` and `timeoutMs` plus a slice after it started.
 */
function deadlineBatches(timeoutMs: number): {
  join(reject: (error: unknown) => void): Set<(error: unknown) => void>;
} {
  const sliceMs = Math.max(1, Math.min(100, Math.ceil(timeoutMs / 20)));
  let current: Set<(error: unknown) => void> | undefined;
  return {
    join(reject) {
      let batch = current;
      if (batch === undefined) {
        const opened = new Set<(error: unknown) => void>();
        batch = current = opened;
        // No clock read: the batch takes calls until its slice timer fires, and expires them
        // `timeoutMs` after that (so every call it took gets at least `timeoutMs`).
        const close = setTimeout(() => {
          if (current === opened) current = undefined;
          const expiry = setTimeout(() => {
            for (const fail of opened) fail(storeUnavailable(timedOut(timeoutMs)));
            opened.clear();
          }, timeoutMs);
          expiry.unref();
        }, sliceMs);
        // A deadline alone must not keep the process alive (a graceful shutdown would wait on it).
        close.unref();
      }
      batch.add(reject);
      return batch;
    },
  };
}
