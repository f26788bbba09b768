// Threat: a store that stops answering without failing (Redis paused or swapping, a partition that
// keeps the socket open) so every guarded request waits forever: the guard must fail closed within
// its deadline, never hang and never fall through to "allow". Real timers with a short deadline:
// the fake clock of `testEngine` drives the engine's time, not `setTimeout`.
import { describe, expect, it } from "vitest";
import { alice, interceptStore, testEngine } from "../../test/helpers.js";
import type { StepUpOptions } from "../config.js";
import { StepUpError } from "../errors.js";
import { memoryStore } from "../store/memory-store.js";
import type { Store } from "../store/store.js";
import { guardedStore } from "./guarded-store.js";

type Mode = { kind: "ok" } | { kind: "hung" } | { kind: "slow"; ms: number };

/** A memory store whose calls answer, never settle, or answer late, as `control.mode` says. */
function controlledStore(): { store: Store; mode: Mode } {
  const inner = memoryStore();
  const control: { store: Store; mode: Mode } = { store: inner, mode: { kind: "ok" } };
  const gate = (call: () => Promise<unknown>): Promise<unknown> => {
    const mode = control.mode;
    if (mode.kind === "hung") return new Promise(() => {});
    if (mode.kind === "slow") return new Promise((r) => setTimeout(r, mode.ms)).then(call);
    return call();
  };
  control.store = interceptStore(inner, (_name, _args, call) => gate(call as () => Promise<unknown>));
  return control;
}

const expectTimedOut = (error: unknown): void => {
  expect(error).toBeInstanceOf(StepUpError);
  expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
  expect((error as StepUpError).cause).toMatchObject({ name: "TimeoutError" });
};

describe("a hung store fails closed within storeTimeoutMs", () => {
  it("decide() on a store that never answers rejects with STORE_UNAVAILABLE after about 50 ms", async () => {
    const s = controlledStore();
    const t = testEngine({ storeTimeoutMs: 50 }, s.store);
    const rule = t.engine.rules.lookup("a", "b");
    s.mode = { kind: "hung" };
    const started = performance.now();
    const error = await t.engine.decide({ user: alice, sid: "s", rule }).then(
      (decision) => decision,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expectTimedOut(error);
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1_000);
  });

  it("every store call has the deadline, writes included", async () => {
    const s = controlledStore();
    s.mode = { kind: "hung" };
    const guarded = guardedStore(s.store, 20);
    const calls: Record<Exclude<keyof Store, "peek">, () => Promise<unknown>> = {
      getMany: () => guarded.getMany("u", ["k"]),
      set: () => guarded.set("u", "k", "v", 60),
      setIfAbsent: () => guarded.setIfAbsent("u", "k", "v", 60),
      advance: () => guarded.advance("u", "k", 1, 60),
      append: () => guarded.append("u", "l", "v", 5, 60),
      list: () => guarded.list("u", "l"),
      take: () => guarded.take("u", "k"),
      increment: () => guarded.increment("u", "k", 60),
      delete: () => guarded.delete("u", ["k"]),
      hashSet: () => guarded.hashSet("u", "h", "f", "v"),
      hashReplace: () => guarded.hashReplace("u", "h", "f", "v"),
      deleteIfEquals: () => guarded.deleteIfEquals("u", "k", "v"),
      hashGetAll: () => guarded.hashGetAll("u", "h"),
      hashDelete: () => guarded.hashDelete("u", "h", "f"),
      appendAfter: () => guarded.appendAfter("u", "l", null, "v", 5, 60),
      enqueue: () => guarded.enqueue("u", "q", "i", "v", 0),
      claim: () => guarded.claim("u", "q", 0, 1000, 1),
      settle: () => guarded.settle("u", "q", "i", null),
    };
    const outcomes = await Promise.allSettled(Object.values(calls).map((call) => call()));
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      if (o.status === "rejected") expectTimedOut(o.reason);
    }
  });

  it("deadlines are shared per slice of time, yet every call gets its whole deadline: a call joining a batch late is not failed early", async () => {
    const s = controlledStore();
    s.mode = { kind: "hung" };
    const guarded = guardedStore(s.store, 200); // slices of 10 ms
    const timeOfFailure = async (): Promise<number> => {
      const started = performance.now();
      const error = await guarded.getMany("u", ["k"]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expectTimedOut(error);
      return performance.now() - started;
    };
    // Calls started every 3 ms for 60 ms: several batches, and calls late in each of them.
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(timeOfFailure());
      await new Promise((r) => setTimeout(r, 3));
    }
    const elapsed = await Promise.all(calls);
    expect(Math.min(...elapsed)).toBeGreaterThanOrEqual(199); // timers may fire up to 1 ms early
    expect(Math.max(...elapsed)).toBeLessThan(1_000);
  });

  it("a call that answers is out of its batch: the batch's deadline does not fail it afterwards", async () => {
    const s = controlledStore();
    s.mode = { kind: "slow", ms: 5 };
    const guarded = guardedStore(s.store, 30);
    const answered = guarded.getMany("u", ["k"]);
    s.mode = { kind: "hung" };
    const hung = guarded.getMany("u", ["k"]).catch((e: unknown) => e);
    await expect(answered).resolves.toEqual([null]);
    expectTimedOut(await hung);
  });

  it("a store call that throws or rejects (a client that refuses a command at once) is STORE_UNAVAILABLE, never a value", async () => {
    const broken = new Error("Connection is closed.");
    for (const failure of ["throws", "rejects"] as const) {
      const store = interceptStore(memoryStore(), () => {
        if (failure === "throws") throw broken;
        return Promise.reject(broken);
      });
      const guarded = guardedStore(store, 1_000);
      for (const call of [() => guarded.getMany("u", ["k"]), () => guarded.take("u", "k")]) {
        const error = await call().then(
          (value) => ({ value }),
          (e: unknown) => e,
        );
        expect(error, failure).toBeInstanceOf(StepUpError);
        expect(error, failure).toMatchObject({ code: "STORE_UNAVAILABLE", cause: broken });
      }
    }
  });

  it("a slow store that answers within the deadline is not failed", async () => {
    const s = controlledStore();
    const t = testEngine({ storeTimeoutMs: 1_000 }, s.store);
    const rule = t.engine.rules.lookup("a", "b");
    s.mode = { kind: "slow", ms: 30 };
    await expect(t.engine.decide({ user: alice, sid: "s", rule })).resolves.toMatchObject({
      outcome: "challenge",
    });
  });

  it.each([0, -1, 1.5, 60_001, Number.NaN, "2000"])(
    "a bad `storeTimeoutMs` (%s) throws a TypeError naming it",
    (value) => {
      expect(() => testEngine({ storeTimeoutMs: value as StepUpOptions["storeTimeoutMs"] })).toThrow(
        expect.objectContaining({ name: "TypeError", message: expect.stringContaining("`storeTimeoutMs`") }),
      );
    },
  );
});
