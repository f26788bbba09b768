// The load test's invariant checker flags each kind of violation it claims to (fed made-up records),
// so a load run that reports "all held" has been checked, not skipped.
import { describe, expect, it } from "vitest";
import type { Rec } from "./client.js";
import { checkInvariants } from "./invariants.js";
import { type MemoryBounds, memoryFailures, rssFigures } from "./memory.js";
import type { Run } from "./users.js";

function run(records: Partial<Rec>[], extra: Partial<Run> = {}): Run {
  return {
    records: records.map((r) => ({
      kind: "guard",
      proc: 0,
      path: "/",
      status: 200,
      error: "",
      sendMs: 0,
      recvMs: 0,
      ms: 0,
      jar: 1,
      epoch: 0,
      user: 1,
      ...r,
    })),
    issued: new Map(),
    generations: new Map(),
    ...extra,
  } as Run;
}

const ok = (kind: Rec["kind"], sendMs: number, tag: Rec["tag"], more: Partial<Rec> = {}): Partial<Rec> => ({
  kind,
  sendMs,
  recvMs: sendMs + 5,
  tag,
  ...more,
});

describe("the load test's invariants", () => {
  it("hold for a clean history", () => {
    const issued = new Map([["AAAA", { user: 1, gen: 0 }]]);
    const generations = new Map([[1, [{ gen: 0, sendMs: 0, recvMs: 5 }]]]);
    const records = [
      ok("enrol-confirm", 0, { step: 10, gen: 0 }),
      ok("verify-totp", 100, { step: 11 }),
      ok("guard", 200, undefined),
      ok("verify-recovery", 300, { code: "AAAA", gen: 0 }),
      ok("transfer", 400, { txn: "t1" }, { status: 401 }),
      ok("verify-totp", 500, { step: 12, txn: "t1" }),
      ok("transfer", 600, { txn: "t1" }),
      ok("transfer", 600, { txn: "t1" }, { status: 401 }),
    ];
    expect(checkInvariants(run(records, { issued, generations }), 10)).toEqual([]);
  });

  it("flag a TOTP step accepted twice, and an older step after a newer one", () => {
    const twice = run([ok("replay-totp", 0, { step: 5 }), ok("replay-totp", 0, { step: 5 }, { proc: 1 })]);
    expect(checkInvariants(twice, 10).join()).toMatch(/TOTP step 5 accepted 2 times/);
    const older = run([ok("verify-totp", 0, { step: 6 }), ok("verify-totp", 100, { step: 5 })]);
    expect(checkInvariants(older, 10).join()).toMatch(/step 5 accepted after step 6/);
  });

  it("flag a recovery code accepted twice, one never issued, one of a replaced set, and two live sets", () => {
    const issued = new Map([
      ["A", { user: 1, gen: 0 }],
      ["B", { user: 1, gen: 1 }],
      ["C", { user: 1, gen: 2 }],
    ]);
    const generations = new Map([
      [
        1,
        [
          { gen: 0, sendMs: 0, recvMs: 5 },
          { gen: 1, sendMs: 100, recvMs: 110 },
          { gen: 2, sendMs: 101, recvMs: 112 },
        ],
      ],
    ]);
    const found = checkInvariants(
      run(
        [
          ok("replay-recovery", 50, { code: "A" }),
          ok("replay-recovery", 50, { code: "A" }),
          ok("verify-recovery", 200, { code: "A" }),
          ok("verify-recovery", 200, { code: "Z" }),
          ok("verify-recovery", 300, { code: "B" }),
          ok("verify-recovery", 400, { code: "C" }),
        ],
        { issued, generations },
      ),
      10,
    ).join("\n");
    expect(found).toMatch(/recovery code A accepted 3 times/);
    expect(found).toMatch(/never issued/);
    expect(found).toMatch(/set 0 accepted after set 1 replaced it/);
    expect(found).toMatch(/two sets issued at once \(1 and 2\) both accepted/);
  });

  it("flag a grant without a verification: none, too old, before a logout, another browser; and a transfer paid twice", () => {
    const flagged = (records: Partial<Rec>[]) => checkInvariants(run(records), 10);
    expect(flagged([ok("guard", 0, undefined)]).join()).toMatch(/guard granted without a verification/);
    expect(flagged([ok("verify-totp", 0, { step: 1 }), ok("guard", 10_100, undefined)])).toHaveLength(1);
    expect(
      flagged([ok("verify-totp", 0, { step: 1 }), ok("guard", 100, undefined, { epoch: 1 })]),
    ).toHaveLength(1);
    expect(
      flagged([ok("verify-totp", 0, { step: 1 }), ok("guard", 100, undefined, { jar: 2 })]),
    ).toHaveLength(1);
    expect(
      flagged([ok("verify-totp", 0, { step: 1 }), ok("regen", 100, undefined, { status: 201 })]),
    ).toEqual([]);
    expect(flagged([ok("guard-fresh-jar", 0, undefined)]).join()).toMatch(/guard-fresh-jar got 200/);
    expect(
      flagged([ok("verify-totp", 0, { step: 1 }), ok("guard-after-logout", 10, undefined)]),
    ).toHaveLength(1);
    const paidTwice = flagged([
      ok("verify-totp", 0, { step: 1, txn: "t" }),
      ok("transfer", 10, { txn: "t" }),
      ok("transfer", 10, { txn: "t" }, { proc: 1 }),
    ]);
    expect(paidTwice.join()).toMatch(/transfer t paid 2 times/);
    expect(
      flagged([ok("verify-totp", 0, { step: 1, txn: "t" }), ok("transfer", 10, { txn: "u" })]),
    ).toHaveLength(1);
  });

  it("flag an email code accepted twice, one accepted on a challenge it was not mailed for, more codes mailed than the limit, and an email factor added without a step-up", () => {
    const mail = (challenge: string, sentFor = challenge) => ({
      code: "123456",
      mail: "a@example.com#3",
      sentFor,
      challenge,
    });
    const clean = run([
      ok("verify-email", 0, mail("c1")),
      ok("replay-email", 0, mail("c1"), { status: 400 }),
      ok("cross-email", 0, mail("c2", "c1"), { status: 400 }),
      ok("enrol-email-confirm", 0, { ...mail("enrolment f"), mail: "a@example.com#1" }),
    ]);
    expect(checkInvariants(clean, 10)).toEqual([]);
    const twice = run([ok("replay-email", 0, mail("c1")), ok("replay-email", 0, mail("c1"), { proc: 1 })]);
    expect(checkInvariants(twice, 10).join()).toMatch(/email code of mail a@example.com#3 accepted 2 times/);
    const crossed = run([ok("cross-email", 0, mail("c2", "c1"))]);
    expect(checkInvariants(crossed, 10).join()).toMatch(/email code mailed for c1 accepted on c2/);
    const messages = Array.from({ length: 11 }, () => ({ to: "b@example.com", code: "654321" }));
    const bombed = run([], { smtp: { messages } as unknown as Run["smtp"] });
    expect(checkInvariants(bombed, 10).join()).toMatch(/11 codes mailed to b@example.com/);
    const notices = Array.from({ length: 11 }, () => ({ to: "b@example.com", code: "" }));
    expect(checkInvariants(run([], { smtp: { messages: notices } as unknown as Run["smtp"] }), 10)).toEqual(
      [],
    );
    const added = run([ok("enrol-email-start", 0, undefined, { status: 201 })]);
    expect(checkInvariants(added, 10).join()).toMatch(/enrol-email-start granted without a verification/);
  });

  it("flag a wrong code or a sequential replay accepted", () => {
    expect(checkInvariants(run([ok("verify-wrong", 0, { step: -1 })]), 10)).toHaveLength(1);
    expect(checkInvariants(run([ok("replay-old", 0, { code: "X" })]), 10).join()).toMatch(
      /replay-old accepted/,
    );
  });
});

describe("the load test's memory figures", () => {
  /** 61 s sampled every second; after a collection every 4 s from the warm-up's end (20 s) on. */
  const series = (
    mb: (t: number) => number,
    afterGc: (t: number) => { heapMb: number; rssMb: number } = () => ({ heapMb: 40, rssMb: 100 }),
  ) => [
    {
      proc: 0,
      samples: Array.from({ length: 61 }, (_, t) => ({ t, mb: mb(t) })),
      afterGc: Array.from({ length: 11 }, (_, k) => ({ t: 20 + 4 * k, ...afterGc(20 + 4 * k) })),
    },
  ];
  const long: MemoryBounds = { ceilingMb: 256, heapMb: 4, rssMb: 10 };
  const judged = (s: ReturnType<typeof series>, bounds = long) =>
    memoryFailures(rssFigures(s, 20), ["express"], bounds);

  it("a steady rise (a leak) raises the sampled floor; a transient peak near the end does not", () => {
    const [leak] = rssFigures(
      series((t) => 100 + t / 2),
      20,
    );
    expect(leak?.floorGrowthMb).toBeCloseTo(13.5, 0);
    const [spike] = rssFigures(
      series((t) => (t >= 55 ? 160 : 120)),
      20,
    );
    expect(spike?.floorGrowthMb).toBe(0);
    expect(spike?.growthMb).toBeGreaterThan(10); // what the slope alone would have said
  });

  it("garbage that rises and falls passes, even when it is not collected in the last third; a floor after collection that grows fails", () => {
    // Sampled RSS: garbage piles up from 110 MB and is collected every 12 s, the last third's
    // troughs 30 MB higher (V8 collected later): the sampled floor says +30 MB, as in the flaky runs.
    const garbage = (t: number) => (t < 40 ? 110 + (t % 12) * 4 : 140 + (t % 12) * 2);
    const sawtooth = series(garbage);
    const [f] = rssFigures(sawtooth, 20);
    expect(f?.floorGrowthMb).toBeGreaterThan(25);
    // After each collection the heap and RSS are flat (a little noise): no failure.
    const noisy = series(garbage, (t) => ({ heapMb: 40 + (t % 3) * 0.5, rssMb: 100 + (t % 5) }));
    expect(judged(noisy)).toEqual([]);
    expect(rssFigures(noisy, 20)[0]?.heap.floorGrowthMb).toBeLessThan(1);

    // A leak of JS objects: the heap after collection grows 6 MB over the window.
    const heapLeak = series(garbage, (t) => ({ heapMb: 40 + (t - 20) * 0.15, rssMb: 100 }));
    expect(judged(heapLeak).join()).toMatch(
      /used heap after collection grew [\d.]+ MB after warm-up, not under 4 MB/,
    );
    // A native leak: RSS after collection grows 16 MB while the heap stays flat.
    const nativeLeak = series(garbage, (t) => ({ heapMb: 40, rssMb: 100 + (t - 20) * 0.4 }));
    expect(judged(nativeLeak).join()).toMatch(
      /RSS after collection grew [\d.]+ MB after warm-up, not under 10 MB/,
    );
    // The short form judges neither floor, only the ceiling.
    expect(judged(heapLeak, { ceilingMb: 256 })).toEqual([]);
  });

  it("the ceiling holds in every form, and a long run without measures after collection fails", () => {
    expect(
      judged(
        series((t) => (t === 30 ? 300 : 120)),
        { ceilingMb: 256 },
      ).join(),
    ).toMatch(/RSS peak 300.0 MB, not under 256 MB/);
    const [unmeasured] = series(() => 120);
    expect(judged([{ ...(unmeasured as NonNullable<typeof unmeasured>), afterGc: [] }]).join()).toMatch(
      /0 measures after a collection/,
    );
    // Off Linux (no /proc): nothing measured, nothing judged.
    expect(memoryFailures(rssFigures([{ proc: 0, samples: [], afterGc: [] }], 20), ["next"], long)).toEqual(
      [],
    );
  });
});
