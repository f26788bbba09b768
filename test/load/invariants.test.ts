// The load test's invariant checker flags each kind of violation it claims to (fed made-up records),
// so a load run that reports "all held" has been checked, not skipped.
import { describe, expect, it } from "vitest";
import { CHANNELS, type Channel, type Rec } from "./client.js";
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

  const inboxes = (channel: Channel, messages: { to: string; code: string; receivedAtMs?: number }[]) =>
    ({ [channel]: { messages, next: () => Promise.reject(new Error("none")) } }) as unknown as Run["inboxes"];

  it.each(CHANNELS)(
    "flag a %s code accepted twice, one accepted on a challenge it was not sent for, more codes sent to one destination than the limit, and the factor added without a step-up",
    (c) => {
      const to = c === "email" ? "a@example.com" : "+15550001111";
      const code = (challenge: string, sentFor = challenge, message = `${c}:${to}#3`) => ({
        code: "123456",
        message,
        sentFor,
        challenge,
      });
      const clean = run(
        [
          ok("verify-totp", 0, { step: 1 }),
          ok(`enrol-${c}-start`, 10, { to }, { status: 201 }),
          ok(`enrol-${c}-confirm`, 20, code("enrolment f", "enrolment f", `${c}:${to}#1`)),
          ok(`verify-${c}`, 100, code("c1")),
          ok("guard", 110, undefined),
          ok(`replay-${c}`, 100, code("c1"), { status: 400 }),
          ok(`cross-${c}`, 200, code("c2", "c1"), { status: 400 }),
        ],
        { inboxes: inboxes(c, [{ to, code: "222222", receivedAtMs: 12 }]) },
      );
      expect(checkInvariants(clean, 10)).toEqual([]);
      const twice = run([ok(`replay-${c}`, 0, code("c1")), ok(`replay-${c}`, 0, code("c1"), { proc: 1 })]);
      expect(checkInvariants(twice, 10).join()).toMatch(`code of message ${c}:${to}#3 accepted 2 times`);
      const crossed = run([ok(`cross-${c}`, 0, code("c2", "c1"))]);
      expect(checkInvariants(crossed, 10).join()).toMatch(
        `code of message ${c}:${to}#3 sent for c1 accepted on c2`,
      );
      const enrolledElsewhere = run([ok(`enrol-${c}-confirm`, 0, code("enrolment g", "enrolment f"))]);
      expect(checkInvariants(enrolledElsewhere, 10).join()).toMatch(
        /sent for enrolment f accepted on enrolment g/,
      );
      const bombed = run([], {
        inboxes: inboxes(
          c,
          Array.from({ length: 11 }, () => ({ to, code: "654321" })),
        ),
      });
      expect(checkInvariants(bombed, 10)).toEqual([`11 ${c} codes sent to ${to} (at most 10 an hour)`]);
      const ten = run([], {
        inboxes: inboxes(
          c,
          Array.from({ length: 10 }, () => ({ to, code: "654321" })),
        ),
      });
      expect(checkInvariants(ten, 10)).toEqual([]);
      const notices = run([], {
        inboxes: inboxes(
          c,
          Array.from({ length: 11 }, () => ({ to, code: "" })),
        ),
      });
      expect(checkInvariants(notices, 10)).toEqual([]);
      // A send answered 200 (or an enrolment's 201) with no message meanwhile; one with its message.
      const lost = run([ok(`send-${c}`, 1_000, { challenge: "c1", to })], {
        inboxes: inboxes(c, [{ to, code: "111111", receivedAtMs: 900 }]),
      });
      expect(checkInvariants(lost, 10)).toEqual([
        expect.stringMatching(`send-${c} answered 200 but no code reached ${to.replace("+", "\\+")}`),
      ]);
      const delivered = run([ok(`send-${c}`, 1_000, { challenge: "c1", to })], {
        inboxes: inboxes(c, [{ to, code: "111111", receivedAtMs: 1_003 }]),
      });
      expect(checkInvariants(delivered, 10)).toEqual([]);
      const added = run([ok(`enrol-${c}-start`, 0, undefined, { status: 201 })]);
      expect(checkInvariants(added, 10).join()).toMatch(`enrol-${c}-start granted without a verification`);
      const addedLater = run([
        ok("verify-totp", 0, { step: 1 }),
        ok(`enrol-${c}-start`, 301_000, undefined, { status: 201 }),
      ]);
      expect(checkInvariants(addedLater, 10).join()).toMatch(
        `enrol-${c}-start granted without a verification`,
      );
    },
  );

  it("flag more texts to one calling code than the library's SMS pumping limit (100 an hour)", () => {
    // 101 numbers, one text each: no number over its limit, the calling code +44 over its.
    const texts = Array.from({ length: 101 }, (_, i) => ({
      to: `+44${String(i).padStart(9, "0")}`,
      code: "1",
    }));
    expect(checkInvariants(run([], { inboxes: inboxes("sms", texts) }), 10)).toEqual([
      "101 SMS codes sent to calling code +44 (at most 100 an hour)",
    ]);
    const spread = texts.map((m, i) => ({ ...m, to: i % 2 ? m.to : m.to.replace("+44", "+33") }));
    expect(checkInvariants(run([], { inboxes: inboxes("sms", spread) }), 10)).toEqual([]);
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
