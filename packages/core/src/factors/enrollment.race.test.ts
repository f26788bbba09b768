// Threat: an attacker holding only the password session starts a TOTP enrollment before the
// victim has any factor, waits until the victim enrolls, then confirms their own pending
// enrollment with no step-up and uses it to step up (reproduced over HTTP before the fix).
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import {
  alice,
  done,
  enrollAlice,
  fakeClock,
  gatedStore,
  outcome,
  stepUpAlice,
  storeWith,
  testEngine,
} from "../../test/helpers.js";
import { memoryStore } from "../store/memory-store.js";

type T = ReturnType<typeof testEngine>;

async function startTotp(t: T, sid?: string) {
  return done(await t.engine.factors.enrollStart(alice, "totp", {}, sid)) as {
    factorId: string;
    secret: string;
  };
}

const codeFor = (t: T, secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });

type Pending = Awaited<ReturnType<typeof startTotp>>;

/** Confirms a pending TOTP enrollment with its current code (or `code`), in step-up session `sid`. */
async function confirmTotp(t: T, p: Pending, { code, sid }: { code?: string; sid?: string } = {}) {
  return t.engine.factors.enrollConfirm(
    alice,
    "totp",
    p.factorId,
    { code: code ?? (await codeFor(t, p.secret)) },
    sid,
  );
}

describe("enrollment: a pending enrollment cannot become a second factor without a step-up", () => {
  it("the victim's first factor ends the attacker's pending enrollment", async () => {
    const t = testEngine();
    const attacker = await startTotp(t); // started while alice had no factor: no step-up asked
    const victim = await startTotp(t); // the victim enrolls her first factor
    done(await confirmTotp(t, victim));
    expect(await outcome(confirmTotp(t, attacker))).toBe("ENROLLMENT_NOT_FOUND");
    expect((await t.engine.factors.list(alice.id)).filter((f) => f.type === "totp")).toHaveLength(1);
  });

  it("two pending enrollments confirmed at once by a user with no factor: one factor, the other must step up", async () => {
    const t = testEngine();
    const pending = [await startTotp(t), await startTotp(t), await startTotp(t)];
    const results = await Promise.all(
      pending.map(async (p) =>
        confirmTotp(t, p).then(
          (r) => ("stepUpRequired" in r ? "step-up" : "ok"),
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(
      results.filter((r) => r !== "ok").every((r) => r === "step-up" || r === "ENROLLMENT_NOT_FOUND"),
    ).toBe(true);
    expect((await t.engine.factors.list(alice.id)).filter((f) => f.type === "totp")).toHaveLength(1);
  });

  it("confirming after a factor exists needs a fresh step-up at confirm time, not only at start", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const sid = await stepUpAlice(t);
    const second = await startTotp(t, sid); // fresh now
    t.clock.advance(301_000); // the step-up is stale by the time the code is typed
    const stale = await confirmTotp(t, second, { sid });
    expect(stale).toEqual({ stepUpRequired: t.engine.ownRules["factor.add"] });
    // Stepping up again and retrying the same pending enrollment works (nothing was spent).
    const again = await stepUpAlice(t, sid);
    const confirmed = done(await confirmTotp(t, second, { sid: again }));
    expect(confirmed.factor.primary).toBe(false);
  });

  it("a wrong first code releases the first-factor claim (the user can still enroll)", async () => {
    const t = testEngine();
    const p = await startTotp(t);
    expect(await outcome(confirmTotp(t, p, { code: "000000" }))).toBe("INVALID_CODE");
    const ok = done(await confirmTotp(t, p));
    expect(ok.factor.primary).toBe(true);
    expect(ok.recoveryCodes).toHaveLength(10);
  });

  it("a claim the store applied but whose reply was lost (503) blocks enrolling for the claim's lease (a minute), not the enrollment's 10", async () => {
    const clock = fakeClock();
    const inner = memoryStore({ clock });
    let loseReply = true;
    const lossy = storeWith(inner, {
      async setIfAbsent(scope, key, value, ttl) {
        const applied = await inner.setIfAbsent(scope, key, value, ttl);
        if (key === "first-factor" && loseReply) {
          loseReply = false;
          throw new Error("connection reset after the write");
        }
        return applied;
      },
    });
    const t = testEngine({}, lossy, clock);
    const p = await startTotp(t);
    const confirm = () => confirmTotp(t, p);
    expect(await outcome(confirm())).toBe("STORE_UNAVAILABLE");
    // The claim stayed: the retry is asked for a step-up the user cannot do (no factor yet).
    expect(await confirm()).toEqual({ stepUpRequired: t.engine.ownRules["factor.add"] });
    t.clock.advance(61_000); // past the lease (30 x the 2 s store deadline)
    const ok = done(await confirm());
    expect(ok.factor.primary).toBe(true);
  });

  it("a release that comes after its claim expired does not free the next confirmation's claim (no second first factor)", async () => {
    // A's confirmation hangs after claiming (a store call stalled past the claim's lease), B claims
    // the expired key and is writing its factor when A finally fails and releases: A must delete
    // only its own claim, or C, confirmed now, would be a first factor too, with no step-up.
    const clock = fakeClock();
    const gated = gatedStore(memoryStore({ clock }));
    const t = testEngine({}, gated.store, clock);
    const [a, b, c] = [await startTotp(t), await startTotp(t), await startTotp(t)];
    // A stops at its attempt counter, after claiming; B at its factor write, after claiming and proving.
    const heldA = gated.hold(["increment"], ([, key]) => String(key).includes(a.factorId));
    const heldB = gated.hold(["hashSet"], ([, , field]) => field === b.factorId);
    const confirmA = outcome(confirmTotp(t, a, { code: "000000" }));
    await heldA.reached;
    t.clock.advance(61_000); // A's claim expires while it hangs
    const confirmB = confirmTotp(t, b);
    await heldB.reached;
    heldA.open();
    expect(await confirmA).toBe("INVALID_CODE"); // A fails and releases its (expired) claim
    expect(await confirmTotp(t, c)).toEqual({ stepUpRequired: t.engine.ownRules["factor.add"] });
    heldB.open();
    expect(done(await confirmB).factor.primary).toBe(true);
    const totps = (await t.engine.factors.list(alice.id)).filter((f) => f.type === "totp");
    expect(totps.map((f) => f.id)).toEqual([b.factorId]);
  });

  it("at most 10 pending enrollments per user: starting more drops the oldest", async () => {
    const t = testEngine();
    const started = [];
    for (let i = 0; i < 12; i++) started.push(await startTotp(t));
    const first = started[0] ?? { factorId: "", secret: "" };
    expect(await outcome(confirmTotp(t, first))).toBe("ENROLLMENT_NOT_FOUND");
  });
});
