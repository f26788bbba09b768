import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "./store.js";

/** What a store's test file hands to {@link storeContract}. */
export interface StoreContractContext {
  /** The store under test. */
  readonly store: Store;
  /**
   * A fake clock that drives the store's TTLs. Without one, the suite checks expiry with one
   * real 1.2 s wait and skips the cases that need exact control of time.
   */
  readonly clock?: { advance(ms: number): void };
  /** Runs after the suite, e.g. to quit a client. */
  readonly teardown?: () => Promise<void>;
}

/** Creates the store under test; called once, before the suite. */
export type StoreContractSetup = () => Promise<StoreContractContext>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Registers the conformance suite that every {@link Store} must pass: ordering, TTLs, atomicity
 * under concurrent callers, durable hashes, and scope isolation. Each test works in its own random
 * scope, so the suite can run against a shared server.
 *
 * @param name - shown in the suite title.
 * @param setup - creates the store (and optionally a fake clock) before the suite runs.
 * @example
 * ```ts
 * import { memoryStore } from "@stepup/core";
 * import { storeContract } from "@stepup/core/testing";
 *
 * let t = 0;
 * const clock = { now: () => t, advance: (ms: number) => { t += ms; } };
 * storeContract("memoryStore", async () => ({ store: memoryStore({ clock }), clock }));
 * ```
 */
export function storeContract(name: string, setup: StoreContractSetup): void {
  describe(`Store contract: ${name}`, () => {
    let context: StoreContractContext | undefined;
    const store = (): Store => {
      if (context === undefined) throw new Error("storeContract: setup did not run");
      return context.store;
    };
    const scope = (label: string): string => `contract-${label}-${crypto.randomUUID()}`;

    beforeAll(async () => {
      context = await setup();
    });
    afterAll(async () => {
      await context?.teardown?.();
    });

    it("getMany: returns values in the order asked, with null for absent keys", async () => {
      const s = scope("getmany");
      await store().set(s, "a", "A", 60);
      await store().set(s, "c", "C", null);
      expect(await store().getMany(s, ["c", "b", "a", "c"])).toEqual(["C", null, "A", "C"]);
      expect(await store().getMany(s, [])).toEqual([]);
    });

    it("set: replaces the value of an existing key", async () => {
      const s = scope("set");
      await store().set(s, "k", "first", 60);
      await store().set(s, "k", "second", 60);
      expect(await store().getMany(s, ["k"])).toEqual(["second"]);
    });

    it("ttl: a zero, negative or fractional TTL is rejected and nothing is stored", async () => {
      const s = scope("bad-ttl");
      for (const ttl of [0, -1, 1.5]) {
        await expect(store().set(s, "a", "v", ttl)).rejects.toThrow();
        await expect(store().setIfAbsent(s, "b", "v", ttl)).rejects.toThrow();
        await expect(store().increment(s, "c", ttl)).rejects.toThrow();
      }
      expect(await store().getMany(s, ["a", "b", "c"])).toEqual([null, null, null]);
    });

    it("ttl: once its TTL has passed a key reads as absent, can be claimed again and restarts its count", async () => {
      const s = scope("expiry");
      await store().set(s, "plain", "v", 1);
      await store().setIfAbsent(s, "claim", "old", 1);
      await store().increment(s, "counter", 1);
      await store().increment(s, "counter", 1);
      await store().set(s, "made-durable", "v", 1);
      await store().set(s, "made-durable", "v", null); // a plain set clears the earlier TTL
      await store().set(s, "taken", "v", 1);
      const clock = context?.clock;
      if (clock) clock.advance(1000);
      else await sleep(1200); // the one real wait, so a server's own expiry is tested too
      expect(await store().getMany(s, ["plain", "claim", "made-durable"])).toEqual([null, null, "v"]);
      expect(await store().take(s, "taken")).toBeNull();
      expect(await store().setIfAbsent(s, "claim", "new", 60)).toBe(true);
      expect((await store().increment(s, "counter", 60)).count).toBe(1);
    });

    it("ttl: a key is present until the last millisecond of its TTL (fake clock only)", async (test) => {
      const clock = context?.clock;
      if (!clock) return test.skip();
      const s = scope("ttl-edge");
      await store().set(s, "k", "v", 2);
      clock.advance(1999);
      expect(await store().getMany(s, ["k"])).toEqual(["v"]);
      clock.advance(1);
      expect(await store().getMany(s, ["k"])).toEqual([null]);
    });

    it("durable: a null TTL key and hashes survive any amount of time", async () => {
      const s = scope("durable");
      await store().set(s, "k", "v", null);
      await store().hashSet(s, "h", "f", "v");
      context?.clock?.advance(TEN_YEARS_MS);
      expect(await store().getMany(s, ["k"])).toEqual(["v"]);
      expect(await store().hashGetAll(s, "h")).toEqual({ f: "v" });
    });

    it("setIfAbsent: does not overwrite a present key", async () => {
      const s = scope("nx");
      expect(await store().setIfAbsent(s, "k", "first", 60)).toBe(true);
      expect(await store().setIfAbsent(s, "k", "second", 60)).toBe(false);
      expect(await store().getMany(s, ["k"])).toEqual(["first"]);
    });

    it("setIfAbsent: exactly one of 50 concurrent callers wins, and its value is stored", async () => {
      const s = scope("nx-race");
      const results = await Promise.all(range(50).map((i) => store().setIfAbsent(s, "k", `v${i}`, 60)));
      const winners = range(50).filter((i) => results[i]);
      expect(winners).toHaveLength(1);
      expect(await store().getMany(s, ["k"])).toEqual([`v${winners[0]}`]);
    });

    it("take: returns the value once and leaves the key absent; null when absent", async () => {
      const s = scope("take");
      await store().set(s, "k", "v", 60);
      expect(await store().take(s, "k")).toBe("v");
      expect(await store().take(s, "k")).toBeNull();
      expect(await store().getMany(s, ["k"])).toEqual([null]);
    });

    it("take: a single-use value goes to exactly one of 50 concurrent callers", async () => {
      const s = scope("take-race");
      await store().set(s, "challenge", "secret", 60);
      const results = await Promise.all(range(50).map(() => store().take(s, "challenge")));
      expect(results.filter((r) => r !== null)).toEqual(["secret"]);
    });

    it("deleteIfEquals: a late release deletes nothing once another caller holds the claim", async () => {
      const s = scope("cad");
      expect(await store().deleteIfEquals(s, "claim", "a")).toBe(false); // absent
      await store().set(s, "claim", "b", 60);
      expect(await store().deleteIfEquals(s, "claim", "a")).toBe(false); // another holder's
      expect(await store().getMany(s, ["claim"])).toEqual(["b"]);
      expect(await store().deleteIfEquals(s, "claim", "b")).toBe(true);
      expect(await store().getMany(s, ["claim"])).toEqual([null]);
      expect(await store().setIfAbsent(s, "claim", "c", 60)).toBe(true); // free again
    });

    it("deleteIfEquals: of 50 concurrent releases of one claim exactly one deletes it", async () => {
      const s = scope("cad-race");
      await store().set(s, "claim", "mine", 60);
      const results = await Promise.all(range(50).map(() => store().deleteIfEquals(s, "claim", "mine")));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store().getMany(s, ["claim"])).toEqual([null]);
    });

    it("increment: 100 concurrent calls lose no count and return 1..100 once each", async () => {
      const s = scope("incr-race");
      const results = await Promise.all(range(100).map(() => store().increment(s, "n", 60)));
      expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(range(100).map((i) => i + 1));
      for (const r of results) expect(r.ttlSeconds).toBeGreaterThanOrEqual(1);
      for (const r of results) expect(r.ttlSeconds).toBeLessThanOrEqual(60);
    });

    it("increment: the window is fixed: a later call with a longer TTL does not extend it", async () => {
      const s = scope("incr-window");
      expect(await store().increment(s, "n", 10)).toEqual({ count: 1, ttlSeconds: 10 });
      const second = await store().increment(s, "n", 100);
      expect(second.count).toBe(2);
      expect(second.ttlSeconds).toBeGreaterThanOrEqual(9);
      expect(second.ttlSeconds).toBeLessThanOrEqual(10);
    });

    it("increment: seconds left count down, round up, and a new window starts after (fake clock only)", async (test) => {
      const clock = context?.clock;
      if (!clock) return test.skip();
      const s = scope("incr-clock");
      expect(await store().increment(s, "n", 10)).toEqual({ count: 1, ttlSeconds: 10 });
      clock.advance(4000);
      expect(await store().increment(s, "n", 10)).toEqual({ count: 2, ttlSeconds: 6 });
      clock.advance(5500);
      expect(await store().increment(s, "n", 10)).toEqual({ count: 3, ttlSeconds: 1 });
      clock.advance(500);
      expect(await store().increment(s, "n", 10)).toEqual({ count: 1, ttlSeconds: 10 });
    });

    it("setIfAbsent: a null TTL claims a key for good", async () => {
      const s = scope("nx-durable");
      expect(await store().setIfAbsent(s, "k", "first", null)).toBe(true);
      expect(await store().setIfAbsent(s, "k", "second", null)).toBe(false);
      context?.clock?.advance(TEN_YEARS_MS);
      expect(await store().getMany(s, ["k"])).toEqual(["first"]);
    });

    it("advance: writes only a greater integer; equal and smaller values are refused", async () => {
      const s = scope("advance");
      expect(await store().advance(s, "step", 10, 60)).toBe(true);
      expect(await store().advance(s, "step", 10, 60)).toBe(false);
      expect(await store().advance(s, "step", 9, 60)).toBe(false);
      expect(await store().advance(s, "step", 12, 60)).toBe(true);
      expect(await store().getMany(s, ["step"])).toEqual(["12"]);
      await expect(store().advance(s, "step", 13.5, 60)).rejects.toThrow();
    });

    it("advance: 50 concurrent values: the stored value ends as the largest, and each value is accepted at most once", async () => {
      const s = scope("advance-race");
      const values = range(50).map((i) => 1000 + (i % 25)); // every value sent twice
      const results = await Promise.all(values.map((v) => store().advance(s, "step", v, 60)));
      expect(await store().getMany(s, ["step"])).toEqual(["1024"]);
      const accepted = values.filter((_, i) => results[i]);
      expect(new Set(accepted).size).toBe(accepted.length);
      expect(accepted).toContain(1024);
    });

    it("append: keeps the newest maxLength values and returns the dropped ones, oldest first", async () => {
      const s = scope("append");
      expect(await store().list(s, "l")).toEqual([]);
      expect(await store().append(s, "l", "a", 3, 60)).toEqual([]);
      expect(await store().append(s, "l", "b", 3, 60)).toEqual([]);
      expect(await store().append(s, "l", "c", 3, 60)).toEqual([]);
      expect(await store().append(s, "l", "d", 3, 60)).toEqual(["a"]);
      expect(await store().append(s, "l", "e", 2, 60)).toEqual(["b", "c"]);
      expect(await store().list(s, "l")).toEqual(["d", "e"]);
      await expect(store().append(s, "l", "f", 0, 60)).rejects.toThrow();
      await store().delete(s, ["l"]);
      expect(await store().list(s, "l")).toEqual([]);
    });

    it("append: 60 concurrent appends to a list capped at 20 keep exactly 20 and drop exactly 40", async () => {
      const s = scope("append-race");
      const dropped = await Promise.all(range(60).map((i) => store().append(s, "l", `v${i}`, 20, 60)));
      const kept = await store().list(s, "l");
      expect(kept).toHaveLength(20);
      const all = [...dropped.flat(), ...kept].sort();
      expect(all).toEqual(
        range(60)
          .map((i) => `v${i}`)
          .sort(),
      );
    });

    it("append: the list expires with its TTL, renewed by each append", async () => {
      const s = scope("append-ttl");
      await store().append(s, "l", "a", 5, 1);
      const clock = context?.clock;
      if (clock) clock.advance(1000);
      else await sleep(1200);
      expect(await store().list(s, "l")).toEqual([]);
      expect(await store().append(s, "l", "b", 5, 60)).toEqual([]);
      expect(await store().list(s, "l")).toEqual(["b"]);
    });

    it("appendAfter: appends only after the expected last value, else answers the actual one", async () => {
      const s = scope("append-after");
      expect(await store().appendAfter(s, "l", "x", "a", 3, 60)).toEqual({ appended: false, last: null });
      expect(await store().appendAfter(s, "l", null, "a", 3, 60)).toEqual({ appended: true });
      expect(await store().appendAfter(s, "l", null, "b", 3, 60)).toEqual({ appended: false, last: "a" });
      expect(await store().appendAfter(s, "l", "a", "b", 3, 60)).toEqual({ appended: true });
      await store().appendAfter(s, "l", "b", "c", 3, 60);
      await store().appendAfter(s, "l", "c", "d", 3, 60);
      expect(await store().list(s, "l")).toEqual(["b", "c", "d"]);
      expect(await store().appendAfter(s, "l", "c", "e", 3, 60)).toEqual({ appended: false, last: "d" });
      expect(await store().list(s, "l")).toEqual(["b", "c", "d"]);
    });

    it("appendAfter: 25 concurrent appenders retrying on conflict never fork the list", async () => {
      const s = scope("append-after-race");
      // Each value names the one it follows: a fork would show two values after the same one.
      const appendOne = async (i: number) => {
        let last: string | null = null;
        for (;;) {
          const value = `${i}<${last ?? ""}`;
          const r = await store().appendAfter(s, "l", last, value, 100, 60);
          if (r.appended) return;
          last = r.last;
        }
      };
      await Promise.all(range(25).map(appendOne));
      const values = await store().list(s, "l");
      expect(values).toHaveLength(25);
      for (const [i, v] of values.entries())
        expect(v.slice(v.indexOf("<") + 1)).toBe(i === 0 ? "" : values[i - 1]);
    });

    it("queue: claim hands out due items earliest first, settle removes or reschedules them", async () => {
      const s = scope("queue");
      const t0 = 1_800_000_000_000;
      expect(await store().claim(s, "q", t0, 1000, 10)).toEqual([]);
      await store().enqueue(s, "q", "b", "vb", t0 + 20);
      await store().enqueue(s, "q", "a", "va", t0 + 10);
      await store().enqueue(s, "q", "later", "vl", t0 + 60_000);
      // A repeated enqueue neither duplicates the item nor changes its value or due time.
      await store().enqueue(s, "q", "a", "other", t0);
      expect(await store().claim(s, "q", t0 + 5, 1000, 10)).toEqual([]);
      expect(await store().claim(s, "q", t0 + 30, 1000, 1)).toEqual([{ id: "a", value: "va" }]);
      expect(await store().claim(s, "q", t0 + 30, 1000, 10)).toEqual([{ id: "b", value: "vb" }]);
      // Claimed: not due again until the lease ends.
      expect(await store().claim(s, "q", t0 + 500, 1000, 10)).toEqual([]);
      await store().settle(s, "q", "a", null);
      await store().settle(s, "q", "b", { value: "vb2", dueMs: t0 + 2000 });
      expect(await store().claim(s, "q", t0 + 1999, 1000, 10)).toEqual([]);
      expect(await store().claim(s, "q", t0 + 2000, 1000, 10)).toEqual([{ id: "b", value: "vb2" }]);
      // A settled-away item stays away; settling an absent id changes nothing.
      await store().settle(s, "q", "a", { value: "ghost", dueMs: t0 });
      expect(await store().claim(s, "q", t0 + 100_000, 1000, 10)).toEqual([
        { id: "b", value: "vb2" },
        { id: "later", value: "vl" },
      ]);
      await store().delete(s, ["q"]);
      await store().enqueue(s, "q", "b", "fresh", t0);
      expect(await store().claim(s, "q", t0 + 200_000, 1000, 10)).toEqual([{ id: "b", value: "fresh" }]);
    });

    it("queue: a lease ends: an item claimed by a worker that died is handed out again", async () => {
      const s = scope("queue-lease");
      const t0 = 1_800_000_000_000;
      await store().enqueue(s, "q", "x", "v", t0);
      expect(await store().claim(s, "q", t0, 5000, 10)).toHaveLength(1);
      expect(await store().claim(s, "q", t0 + 4999, 5000, 10)).toEqual([]);
      expect(await store().claim(s, "q", t0 + 5000, 5000, 10)).toEqual([{ id: "x", value: "v" }]);
    });

    it("queue: of 20 concurrent claimers, each of 30 items goes to exactly one", async () => {
      const s = scope("queue-race");
      const t0 = 1_800_000_000_000;
      for (const i of range(30)) await store().enqueue(s, "q", `i${i}`, `v${i}`, t0 + i);
      const claims = await Promise.all(range(20).map(() => store().claim(s, "q", t0 + 100, 60_000, 5)));
      const ids = claims.flat().map((item) => item.id);
      expect(ids.sort()).toEqual(
        range(30)
          .map((i) => `i${i}`)
          .sort(),
      );
    });

    it("delete: removes several keys, strings and hashes, and ignores absent ones", async () => {
      const s = scope("delete");
      await store().set(s, "a", "A", 60);
      await store().set(s, "b", "B", 60);
      await store().set(s, "c", "C", null);
      await store().hashSet(s, "h", "f", "v");
      await store().delete(s, ["a", "c", "h", "missing"]);
      await store().delete(s, []);
      expect(await store().getMany(s, ["a", "b", "c"])).toEqual([null, "B", null]);
      expect(await store().hashGetAll(s, "h")).toEqual({});
    });

    it("hash: hashSet writes and overwrites fields; hashGetAll returns them all, {} when absent", async () => {
      const s = scope("hash");
      expect(await store().hashGetAll(s, "h")).toEqual({});
      await store().hashSet(s, "h", "one", "1");
      await store().hashSet(s, "h", "two", "2");
      await store().hashSet(s, "h", "one", "uno");
      expect(await store().hashGetAll(s, "h")).toEqual({ one: "uno", two: "2" });
    });

    it("hash: hashReplace updates an existing field and never creates a field or a hash", async () => {
      const s = scope("hash-replace");
      expect(await store().hashReplace(s, "h", "f", "v")).toBe(false);
      expect(await store().hashGetAll(s, "h")).toEqual({});
      await store().hashSet(s, "h", "f", "old");
      expect(await store().hashReplace(s, "h", "f", "new")).toBe(true);
      expect(await store().hashReplace(s, "h", "other", "v")).toBe(false);
      expect(await store().hashGetAll(s, "h")).toEqual({ f: "new" });
    });

    it("hash: hashDelete reports whether the field existed", async () => {
      const s = scope("hash-delete");
      await store().hashSet(s, "h", "a", "1");
      await store().hashSet(s, "h", "b", "2");
      expect(await store().hashDelete(s, "h", "a")).toBe(true);
      expect(await store().hashDelete(s, "h", "a")).toBe(false);
      expect(await store().hashGetAll(s, "h")).toEqual({ b: "2" });
      expect(await store().hashDelete(s, "h", "b")).toBe(true);
      expect(await store().hashGetAll(s, "h")).toEqual({});
      expect(await store().hashDelete(s, "missing", "b")).toBe(false);
    });

    it("hash: a hashReplace racing a hashDelete never resurrects the deleted field", async () => {
      const s = scope("hash-race");
      const fields = range(25).map((i) => `factor-${i}`);
      for (const f of fields) await store().hashSet(s, "factors", f, "v1");
      await Promise.all(
        fields.map(async (f, i) => {
          const remove = () => store().hashDelete(s, "factors", f);
          const replace = () => store().hashReplace(s, "factors", f, "v2");
          // Alternate which call is sent first, so both interleavings occur.
          const deleted =
            i % 2 === 0
              ? (await Promise.all([remove(), replace()]))[0]
              : (await Promise.all([replace(), remove()]))[1];
          expect(deleted).toBe(true);
        }),
      );
      expect(await store().hashGetAll(s, "factors")).toEqual({});
    });

    it("scope: the same key in two scopes holds independent values, counters and hashes", async () => {
      const a = scope("iso-a");
      const b = scope("iso-b");
      await store().set(a, "k", "in-a", 60);
      await store().set(b, "k", "in-b", 60);
      await store().increment(a, "n", 60);
      await store().hashSet(a, "h", "f", "in-a");
      expect((await store().increment(b, "n", 60)).count).toBe(1);
      expect(await store().hashGetAll(b, "h")).toEqual({});
      expect(await store().take(a, "k")).toBe("in-a");
      expect(await store().getMany(b, ["k"])).toEqual(["in-b"]);
      await store().delete(b, ["h", "n"]);
      expect(await store().hashGetAll(a, "h")).toEqual({ f: "in-a" });
    });

    it("scope: scopes and keys with ':', '{', '}', '%', spaces, unicode or empty never collide", async () => {
      const base = scope("odd");
      const pairs: [string, string][] = [
        [`${base}:x`, "y"],
        [base, "x:y"],
        [`${base}}:x`, "k"],
        [base, "x}:k"],
        [`${base}{`, "k"],
        [`${base}%7B`, "k"],
        [`${base}{x}`, "k"],
        [`${base} user`, "k k"],
        [`${base}-ユーザー`, "鍵🔑"],
        [`${base}-\u00e9`, "k"],
        [`${base}-e\u0301`, "k"],
        [base, ""],
        ["", `${base}-empty-scope`],
      ];
      const value = (pair: [string, string]) => JSON.stringify(pair);
      for (const pair of pairs) await store().set(pair[0], pair[1], value(pair), 60);
      for (const pair of pairs) await store().hashSet(pair[0], `${pair[1]}#h`, "f", value(pair));
      const counts = await Promise.all(pairs.map(([s, k]) => store().increment(s, `${k}#n`, 60)));
      for (const pair of pairs) {
        expect(await store().getMany(pair[0], [pair[1]])).toEqual([value(pair)]);
        expect(await store().hashGetAll(pair[0], `${pair[1]}#h`)).toEqual({ f: value(pair) });
      }
      expect(counts.map((c) => c.count)).toEqual(pairs.map(() => 1));
    });
  });
}
