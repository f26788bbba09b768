// Threats: a policy that lets the wrong request through (a user with no factor past a grace
// period they reset themselves, a log-only rollout that waives a payment, a hook answering ALLOW
// for stepup's own actions), and one that locks the right user out by accident.
import { describe, expect, it } from "vitest";
import { alice, enrollAlice, testEngine } from "../../test/helpers.js";
import type { StepUpOptions } from "../config.js";
import { recoveryCodes } from "../factors/recovery-codes.js";
import { totp } from "../factors/totp.js";
import { memoryStore } from "../store/memory-store.js";
import type { RuleOptions } from "../types.js";

const DAY = 86_400_000;

function engine(policy: StepUpOptions["policy"], rules: Record<string, RuleOptions> = {}) {
  return testEngine({ policy, rules });
}

const decideFor = (t: ReturnType<typeof testEngine>, resource = "admin", action = "read", extra = {}) =>
  t.engine.decide({ user: alice, sid: undefined, rule: t.engine.rules.lookup(resource, action), ...extra });

describe("policy levels", () => {
  it("DISABLED passes ordinary rules, never stepup's own actions or transaction rules", async () => {
    const t = engine({ requirement: "DISABLED" }, { "payment:transfer": { match: "transaction" } });
    await enrollAlice(t);
    expect(await decideFor(t)).toMatchObject({ outcome: "waived", reason: "disabled" });
    expect(await decideFor(t, "stepup", "factor.add")).toMatchObject({ outcome: "challenge" });
    expect(await decideFor(t, "payment", "transfer", { txn: "x" })).toMatchObject({ outcome: "challenge" });
  });

  it("OPTIONAL: a user with no factor passes; with one, is challenged", async () => {
    const t = engine({ requirement: "OPTIONAL" });
    expect(await decideFor(t)).toMatchObject({ outcome: "waived", reason: "no-factor" });
    await enrollAlice(t);
    expect(await decideFor(t)).toMatchObject({ outcome: "challenge" });
  });

  it("REQUIRED (the default): a user with no factor must enrol, then verify (an empty offer)", async () => {
    const t = engine(undefined);
    const d = await decideFor(t);
    expect(d).toMatchObject({ outcome: "challenge", offer: { factors: [] } });
  });

  it("REQUIRED with a grace period: passes with the deadline until it ends, and the user cannot reset it", async () => {
    const store = memoryStore();
    const t = testEngine({ policy: { requirement: "REQUIRED", gracePeriodDays: 7 } }, store);
    const first = await decideFor(t);
    expect(first).toMatchObject({ outcome: "waived", reason: "grace" });
    const deadline = (first as { enrollByMs: number }).enrollByMs;
    expect(deadline).toBe(t.clock.now() + 7 * DAY);
    // Later requests, new sessions: the deadline counts from the first guarded request, once.
    t.clock.advance(3 * DAY);
    expect(await decideFor(t)).toMatchObject({ enrollByMs: deadline });
    await t.engine.revokeUser(alice.id);
    expect(await decideFor(t)).toMatchObject({ enrollByMs: deadline });
    t.clock.advance(4 * DAY + 1);
    expect(await decideFor(t)).toMatchObject({ outcome: "challenge", offer: { factors: [] } });
  });

  it("a changed grace period moves the deadline (re-evaluated from the first request)", async () => {
    const store = memoryStore();
    const a = testEngine({ policy: { requirement: "REQUIRED", gracePeriodDays: 7 } }, store);
    const start = a.clock.now();
    await decideFor(a);
    const b = testEngine({ policy: { requirement: "REQUIRED", gracePeriodDays: 14 } }, store);
    b.clock.set(start + 10 * DAY);
    expect(await decideFor(b)).toMatchObject({ outcome: "waived", enrollByMs: start + 14 * DAY });
  });

  it("noFactor: deny answers enroll-required instead of a challenge nobody can answer", async () => {
    const t = engine({ requirement: "REQUIRED", noFactor: "deny" });
    expect(await decideFor(t)).toMatchObject({ outcome: "enroll-required" });
  });

  it("log-only records what it would have done and lets the request pass, but never for protected rules", async () => {
    const t = engine(
      { requirement: "REQUIRED", mode: "log-only" },
      { "payment:transfer": { match: "transaction" } },
    );
    await enrollAlice(t);
    expect(await decideFor(t)).toMatchObject({ outcome: "waived", reason: "log-only" });
    expect(
      t.events.filter((e) => e.type === "policy.decision" && e.metadata?.mode === "log-only"),
    ).toHaveLength(1);
    expect(await decideFor(t, "payment", "transfer", { txn: "x" })).toMatchObject({ outcome: "challenge" });
    expect(await decideFor(t, "stepup", "factor.remove")).toMatchObject({ outcome: "challenge" });
  });

  it("a hook's ALLOW never waives stepup's own actions, transaction or phishing-resistant rules", async () => {
    const t = testEngine({
      policy: { decide: () => "ALLOW" },
      rules: { "payment:transfer": { match: "transaction" } },
    });
    await enrollAlice(t);
    expect(await decideFor(t)).toMatchObject({ outcome: "waived", reason: "hook" });
    expect(await decideFor(t, "stepup", "factor.add")).toMatchObject({ outcome: "challenge" });
    expect(await decideFor(t, "payment", "transfer", { txn: "x" })).toMatchObject({ outcome: "challenge" });
  });

  it("REVIEW challenges and is kept for an administrator", async () => {
    const t = testEngine({ policy: { decide: () => "REVIEW" } });
    await enrollAlice(t);
    expect(await decideFor(t, "admin", "read", { ip: "203.0.113.4" })).toMatchObject({
      outcome: "challenge",
    });
    expect(t.events.find((e) => e.type === "policy.decision")).toMatchObject({
      metadata: { decision: "REVIEW" },
    });
    const kept = await t.store.list(alice.id, "reviews");
    expect(JSON.parse(kept[0] ?? "{}")).toMatchObject({
      resource: "admin",
      action: "read",
      ip: "203.0.113.4",
    });
  });

  it("rejects policies that cannot work, naming the option", () => {
    const make = (policy: StepUpOptions["policy"]) => () =>
      testEngine({ policy, factors: [totp(), recoveryCodes()] });
    expect(make({ requirement: "SOMETIMES" as never })).toThrow(/policy.requirement/);
    expect(make({ requirement: "RISK_BASED" })).toThrow(/policy.triggers/);
    expect(make({ requirement: "OPTIONAL", gracePeriodDays: 3 })).toThrow(/gracePeriodDays/);
    expect(make({ trustedDevices: { days: 0 } })).toThrow(/trustedDevices.days/);
    expect(make({ requirement: "RISK_BASED", triggers: { newDevice: "yes" as never } })).toThrow(
      /triggers.newDevice/,
    );
    expect(() => testEngine({ rules: { "a:b": { policy: { noFactor: "maybe" as never } } } })).toThrow(
      /rules\["a:b"\].policy.noFactor/,
    );
  });
});
