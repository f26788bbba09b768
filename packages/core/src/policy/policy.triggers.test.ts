// Threats under RISK_BASED and trusted devices: an attacker with the password on their own
// browser and network (new device, new address), right after the victim changed their password,
// or replaying a device cookie they copied from someone else's browser.
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, testEngine } from "../../test/helpers.js";
import type { StepUpOptions } from "../config.js";
import type { RuleOptions } from "../types.js";

const DAY = 86_400_000;
const bob = { id: "bob", email: "bob@example.com" };

function engine(policy: StepUpOptions["policy"], rules: Record<string, RuleOptions> = {}) {
  return testEngine({ policy, rules });
}
type T = ReturnType<typeof engine>;

const decide = (t: T, extra: Record<string, unknown> = {}, resource = "admin", action = "read") =>
  t.engine.decide({ user: alice, sid: undefined, rule: t.engine.rules.lookup(resource, action), ...extra });

/** Verifies alice with TOTP from `ip` and `device`; returns the new device cookie. */
async function verify(t: T, client: { ip?: string; device?: string } = {}, rememberDevice = false) {
  const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("admin", "read"));
  const result = await t.engine.challenges.verify(
    alice,
    "s",
    challenge.id,
    { factor: "totp", code: await codeAt(t.clock.now()), rememberDevice },
    {
      ...client,
      userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605 Version/17.0 Safari/605",
    },
  );
  t.clock.advance(30_000);
  return result.device.value;
}

describe("risk triggers (RISK_BASED)", () => {
  it("newDevice: a browser with no device cookie from a verification is challenged; after one, it passes", async () => {
    const t = engine({ requirement: "RISK_BASED", triggers: { newDevice: true } });
    await enrollAlice(t);
    expect(await decide(t)).toMatchObject({ outcome: "challenge" });
    const device = await verify(t);
    expect(await decide(t, { device })).toMatchObject({ outcome: "waived", reason: "no-risk" });
    // A forged or truncated cookie is a new device.
    expect(await decide(t, { device: `${device.slice(0, -2)}xx` })).toMatchObject({ outcome: "challenge" });
  });

  it("a device cookie copied into another user's session counts for nothing", async () => {
    const t = engine({ requirement: "RISK_BASED", triggers: { newDevice: true } });
    await enrollAlice(t);
    const device = await verify(t);
    const rule = t.engine.rules.lookup("admin", "read");
    // Bob has no factor: the trigger fires and he must enrol (a challenge with nothing to offer).
    expect(await t.engine.decide({ user: bob, sid: undefined, rule, device })).toMatchObject({
      outcome: "challenge",
    });
  });

  it("newIp: an address (IPv6 by /64) with no verification in 30 days is challenged", async () => {
    const t = engine({ requirement: "RISK_BASED", triggers: { newIp: true } });
    await enrollAlice(t);
    expect(await decide(t, { ip: "2001:db8:1:2::10" })).toMatchObject({ outcome: "challenge" });
    await verify(t, { ip: "2001:db8:1:2::10" });
    expect(await decide(t, { ip: "2001:db8:1:2::99" })).toMatchObject({ outcome: "waived" });
    expect(await decide(t, { ip: "2001:db8:1:3::10" })).toMatchObject({ outcome: "challenge" });
    t.clock.advance(31 * DAY);
    expect(await decide(t, { ip: "2001:db8:1:2::10" })).toMatchObject({ outcome: "challenge" });
  });

  it("afterCredentialChange: ends a fresh step-up at once and challenges until the user verifies again", async () => {
    const t = engine({ requirement: "RISK_BASED", triggers: { afterCredentialChange: true } });
    await enrollAlice(t);
    expect(await decide(t)).toMatchObject({ outcome: "waived" });
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("admin", "read"));
    const { sid } = await t.engine.challenges.verify(alice, "s", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    t.clock.advance(30_000);
    expect(await decide(t, { sid })).toMatchObject({ outcome: "allow" });
    await t.engine.markCredentialChange(alice.id);
    t.clock.advance(1);
    expect(await decide(t, { sid })).toMatchObject({ outcome: "challenge" });
    await verify(t);
    expect(await decide(t)).toMatchObject({ outcome: "waived" });
  });

  it("when: a rule's own condition on the request's details", async () => {
    const t = engine(
      { requirement: "OPTIONAL" },
      {
        "payment:transfer": {
          match: "transaction",
          policy: {
            requirement: "RISK_BASED",
            triggers: { when: ({ details }) => Number(details?.amount) > 1000, newDevice: true },
          },
        },
      },
    );
    await enrollAlice(t);
    const device = await verify(t);
    const pay = (amount: number) =>
      decide(t, { txn: `t${amount}`, details: { amount }, device }, "payment", "transfer");
    expect(await pay(1000)).toMatchObject({ outcome: "waived", reason: "no-risk" });
    expect(await pay(1001)).toMatchObject({ outcome: "challenge" });
  });
});

describe("trusted devices", () => {
  const rules: Record<string, RuleOptions> = {
    "admin:read": { allowTrustedDevice: true },
    "payment:transfer": { match: "transaction", allowTrustedDevice: true },
  };

  it("a remembered device passes rules that allow it, for `days`, and no others", async () => {
    const t = testEngine({ policy: { trustedDevices: { days: 30 } }, rules });
    await enrollAlice(t);
    const device = await verify(t, {}, true);
    expect(await decide(t, { device })).toMatchObject({ outcome: "waived", reason: "trusted-device" });
    expect(await decide(t, { device }, "account", "delete")).toMatchObject({ outcome: "challenge" });
    expect(await decide(t, { device, txn: "x" }, "payment", "transfer")).toMatchObject({
      outcome: "challenge",
    });
    expect(await decide(t, { device }, "stepup", "factor.add")).toMatchObject({ outcome: "challenge" });
    const [listed] = await t.engine.devices.list(alice.id);
    expect(listed?.name).toBe("Safari on macOS");
    expect(t.events.some((e) => e.type === "device.trusted")).toBe(true);
    t.clock.advance(31 * DAY);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
  });

  it("a device seen but not remembered is not trusted", async () => {
    const t = testEngine({ rules });
    await enrollAlice(t);
    const device = await verify(t);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
    expect(await t.engine.devices.list(alice.id)).toEqual([]);
  });

  it("a revoked device, revokeUser and a credential change stop it at once", async () => {
    const t = testEngine({ rules });
    await enrollAlice(t);
    let device = await verify(t, {}, true);
    const [listed] = await t.engine.devices.list(alice.id);
    await t.engine.devices.revoke(alice.id, listed?.id);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
    device = await verify(t, {}, true);
    await t.engine.revokeUser(alice.id);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
    device = await verify(t, {}, true);
    await t.engine.markCredentialChange(alice.id);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
    expect(await t.engine.devices.list(alice.id)).toEqual([]);
  });

  it("each verification rotates the device token: a cookie copied earlier stops counting", async () => {
    const t = testEngine({ rules });
    await enrollAlice(t);
    const copied = await verify(t, {}, true);
    const current = await verify(t, { device: copied });
    expect(current.split(".")[0]).toBe(copied.split(".")[0]);
    expect(await decide(t, { device: copied })).toMatchObject({ outcome: "challenge" });
    expect(await decide(t, { device: current })).toMatchObject({
      outcome: "waived",
      reason: "trusted-device",
    });
  });

  it("a trigger that fires cancels the trusted-device pass", async () => {
    const t = testEngine({
      rules: { "admin:read": { allowTrustedDevice: true, policy: { triggers: { newIp: true } } } },
    });
    await enrollAlice(t);
    const device = await verify(t, { ip: "198.51.100.1" }, true);
    expect(await decide(t, { device, ip: "198.51.100.1" })).toMatchObject({ outcome: "waived" });
    expect(await decide(t, { device, ip: "203.0.113.50" })).toMatchObject({ outcome: "challenge" });
  });

  it("trustedDevices: false never trusts a device", async () => {
    const t = testEngine({ policy: { trustedDevices: false }, rules });
    await enrollAlice(t);
    const device = await verify(t, {}, true);
    expect(await decide(t, { device })).toMatchObject({ outcome: "challenge" });
  });
});
