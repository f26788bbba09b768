import { describe, expect, it } from "vitest";
import { enrollAlice, stepUpAlice, testEngine } from "../../test/helpers.js";
import { keys } from "../internal/keys.js";

// Attack: growing a process's memory through the guard's hot path. Every request of a session with
// a new session id (or a caller passing new rule objects) would add an entry if the kept records
// and answers had no bound. These fill them past their bounds: the oldest entry is then computed
// again (a new object), which is what an unbounded map would never do.

describe("the hot path's memory is bounded", () => {
  it("parsed session records: 1,000 kept, the oldest out first (a flood of session ids cannot grow it)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rule = t.engine.declareRule("a", "b", { maxAge: 900 });
    const sid = await stepUpAlice(t, "s0", { resource: "a", action: "b", advanceMs: 0 });
    const first = await t.engine.sessions.check("alice", sid, rule);
    expect(first.fresh).toBe(true);
    expect(await t.engine.sessions.check("alice", sid, rule)).toBe(first); // kept
    // 1,000 other sessions with the same record: each is parsed and kept under its own id.
    const [raw] = await t.store.getMany("alice", [keys.session(sid)]);
    for (let i = 0; i < 1_000; i++) {
      await t.store.set("alice", keys.session(`flood-${i}`), raw ?? "", 3600);
      expect((await t.engine.sessions.check("alice", `flood-${i}`, rule)).fresh).toBe(true);
    }
    const again = await t.engine.sessions.check("alice", sid, rule);
    expect(again.fresh).toBe(true);
    expect(again).not.toBe(first); // parsed again: it had been pushed out
    expect(await t.engine.sessions.check("alice", sid, rule)).toBe(again);
  });

  it("fresh answers: 64 rules per record, then they start over (new rule objects cannot grow it)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const rules = Array.from({ length: 65 }, (_, i) =>
      t.engine.declareRule("a", `b${i}`, { maxAge: 900, match: "session" }),
    );
    const sid = await stepUpAlice(t, "s0", { resource: "a", action: "b0", advanceMs: 0 });
    const [r0, ...rest] = rules;
    if (!r0) throw new Error("no rule");
    const first = await t.engine.sessions.check("alice", sid, r0);
    expect(await t.engine.sessions.check("alice", sid, r0)).toBe(first); // kept
    for (const rule of rest) expect((await t.engine.sessions.check("alice", sid, rule)).fresh).toBe(true);
    const again = await t.engine.sessions.check("alice", sid, r0);
    expect(again.fresh).toBe(true);
    expect(again).not.toBe(first); // computed again: the record's answers had started over
  });
});
