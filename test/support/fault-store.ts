// Fault injection around a real store (not a mock of one): each call either goes through or fails
// the way a Redis connection does, as a plan says. Plans are per request (AsyncLocalStorage), so the
// calls of one request meet the same faults however concurrent requests interleave (replayable).
import { AsyncLocalStorage } from "node:async_hooks";
import type { Store } from "@stepup/core";

/**
 * What one store call meets:
 * - `pass`: goes through;
 * - `throw`: rejects without reaching Redis (a dropped connection);
 * - `hang`: never settles and is never applied (a stalled Redis: only the engine's deadline ends it);
 * - `applied-then-throw`: applied, then rejects (the reply was lost: the write happened, the caller
 *   sees an error);
 * - `late`: never settles, and is applied after the request (Redis ran what it had received, after
 *   the caller gave up).
 */
export type Fault = "pass" | "throw" | "hang" | "applied-then-throw" | "late";

/** The faults for the store calls of one request, in call order; calls beyond the list go through. */
export interface FaultPlan {
  readonly faults: readonly Fault[];
  next: number;
  /** What each call met (`method:fault`), for the failure report. */
  readonly met: string[];
}

export interface FaultStore {
  readonly store: Store;
  /** Runs `fn` with its store calls under `plan` (undefined: no faults). */
  run<T>(plan: FaultPlan | undefined, fn: () => Promise<T>): Promise<T>;
  /** Applies the calls that met `late` (in call order); their answers go nowhere. */
  applyLate(): Promise<void>;
}

/** An error like ioredis gives for a lost connection; its text must never reach a client. */
export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected store fault: ${what}`);
    this.name = "InjectedFault";
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export function faultStore(store: Store): FaultStore {
  const plans = new AsyncLocalStorage<FaultPlan>();
  const late: (() => Promise<unknown>)[] = [];
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(store) as (keyof Store)[]) {
    const fn = store[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof fn !== "function") continue;
    if (name === "peek") {
      wrapped[name] = (...args: unknown[]) => fn.apply(store, args);
      continue;
    }
    wrapped[name] = (...args: unknown[]): Promise<unknown> => {
      const plan = plans.getStore();
      const call = () => fn.apply(store, args) as Promise<unknown>;
      if (plan === undefined || plan.next >= plan.faults.length) return call();
      const fault = plan.faults[plan.next++] ?? "pass";
      plan.met.push(`${name}:${fault}`);
      switch (fault) {
        case "pass":
          return call();
        case "throw":
          return Promise.reject(new InjectedFault(`${name}: connection lost`));
        case "hang":
          return never();
        case "applied-then-throw":
          return call().then(() => {
            throw new InjectedFault(`${name}: reply lost after the command ran`);
          });
        case "late":
          late.push(call);
          return never();
      }
    };
  }
  return {
    store: wrapped as unknown as Store,
    run: (plan, fn) => (plan === undefined ? fn() : plans.run(plan, fn)),
    async applyLate() {
      for (const call of late.splice(0)) await call().catch(() => {});
    },
  };
}
