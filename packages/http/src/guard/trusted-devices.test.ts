// "Remember this device" lets a browser skip rules that allow it. Attacks: a device cookie copied
// into another user's session (a shared computer, a stolen cookie), a device the user revoked (a
// lost laptop), a credential change after an account takeover, and a remembered device used to
// skip what must never be skipped (a payment, a phishing-resistant rule, stepup's own actions).
import { totp, webauthn } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { browser, fakeClock } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";

const alice = { id: "alice", email: "alice@example.com" };
const bob = { id: "bob", email: "bob@example.com" };

function setup() {
  const clock = fakeClock();
  const http = testHttp({
    clock,
    factors: [totp(), webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] })],
  });
  // A rule a remembered device may skip, and a plain one to step up with.
  const profile = http.guard({ resource: "profile", action: "edit", allowTrustedDevice: true });
  const admin = http.guard({ resource: "admin", action: "read" });
  return { clock, http, profile, admin };
}

describe("trusted devices: remembered browsers skip rules that allow it", () => {
  it("a remembered browser passes an allowTrustedDevice rule in a later session, without a step-up", async () => {
    const { clock, http, profile, admin } = setup();
    const b = browser(http, { userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Chrome/130.0" });
    const secret = await b.enrollTotp(alice, clock);
    const verified = await b.stepUp(admin, alice, secret, clock, true);
    expect(verified.body.trustedDevice).toBe(true);
    b.signOut(); // a new sign-in later: no step-up session, the device cookie stays
    expect(await b.visit(profile, alice)).toMatchObject({ kind: "pass", stepUp: { verifiedAt: null } });
    // The plain rule still asks: trust only covers rules that allow it.
    expect((await b.visit(admin, alice)).kind).toBe("step-up-required");
  });

  it("a browser that verified without ticking the box is only seen, never trusted", async () => {
    const { clock, http, profile, admin } = setup();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    const verified = await b.stepUp(admin, alice, secret, clock, false);
    expect(verified.body.trustedDevice).toBe(false);
    expect(b.device()).toBeDefined();
    b.signOut();
    expect((await b.visit(profile, alice)).kind).toBe("step-up-required");
  });

  it("a device cookie copied into another user's session gives nothing", async () => {
    const { clock, http, profile, admin } = setup();
    const shared = browser(http);
    const aliceSecret = await shared.enrollTotp(alice, clock);
    await shared.stepUp(admin, alice, aliceSecret, clock, true);
    shared.signOut();
    // Bob signs in on the same browser (Alice's device cookie still in it), or pastes her cookie.
    const bobSecret = await shared.enrollTotp(bob, clock);
    expect(bobSecret).not.toBe(aliceSecret);
    expect((await shared.visit(profile, bob)).kind).toBe("step-up-required");
    const pasted = browser(http);
    pasted.jar.set("stepup_device", String(shared.device()));
    expect((await pasted.visit(profile, bob)).kind).toBe("step-up-required");
  });

  it("a forged or malformed device cookie counts for nothing", async () => {
    const { clock, http, profile, admin } = setup();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(admin, alice, secret, clock, true);
    b.signOut();
    const real = String(b.device());
    const [id] = real.split(".");
    expect((await b.visit(profile, alice)).kind).toBe("pass");
    for (const forged of [`${id}.${"A".repeat(43)}`, `${id}.`, "x".repeat(500), `${real}x`, `x${real}`]) {
      b.jar.set("stepup_device", forged);
      expect((await b.visit(profile, alice)).kind).toBe("step-up-required");
    }
  });

  it("a revoked device stops passing at once", async () => {
    const { clock, http, profile, admin } = setup();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(admin, alice, secret, clock, true);
    b.signOut();
    expect((await b.visit(profile, alice)).kind).toBe("pass");
    // From another browser (the laptop was lost): list, then revoke.
    const other = browser(http);
    const listed = await other.api(alice, "GET", "devices");
    const [device] = listed.body.devices as { id: string; current?: boolean }[];
    expect(device?.current).toBeUndefined();
    expect((await other.api(alice, "DELETE", `devices/${device?.id}`)).status).toBe(204);
    expect((await b.visit(profile, alice)).kind).toBe("step-up-required");
  });

  it("revokeUser forgets devices: the remembered browser is challenged again", async () => {
    const { clock, http, profile, admin } = setup();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(admin, alice, secret, clock, true);
    await http.engine.revokeUser(alice.id);
    expect((await b.visit(profile, alice)).kind).toBe("step-up-required");
    expect((await b.api(alice, "GET", "devices")).body.devices).toEqual([]);
  });

  it("markCredentialChange forgets devices (a password reset after a takeover ends the attacker's trust)", async () => {
    const { clock, http, profile, admin } = setup();
    const attacker = browser(http);
    const secret = await attacker.enrollTotp(alice, clock);
    await attacker.stepUp(admin, alice, secret, clock, true);
    attacker.signOut();
    expect((await attacker.visit(profile, alice)).kind).toBe("pass");
    await http.engine.markCredentialChange(alice.id);
    expect((await attacker.visit(profile, alice)).kind).toBe("step-up-required");
  });

  it("a trusted device never waives a transaction rule, a phishing-resistant rule or stepup's own actions", async () => {
    const { clock, http, admin } = setup();
    const b = browser(http);
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(admin, alice, secret, clock, true);
    b.signOut();
    const device = b.device();
    const pay = http.guard(
      { resource: "payment", action: "send", match: "transaction", allowTrustedDevice: true },
      { transaction: () => ({ amount: 1 }) },
    );
    expect((await b.visit(pay, alice, { txn: "digest" })).kind).toBe("step-up-required");
    const keys = http.guard({
      resource: "keys",
      action: "rotate",
      level: "phishing-resistant",
      allowTrustedDevice: true,
    });
    expect((await b.visit(keys, alice)).kind).toBe("step-up-required");
    for (const rule of Object.values(http.engine.ownRules)) {
      const decision = await http.engine.decide({ user: alice, sid: undefined, rule, device });
      expect(decision.outcome).toBe("challenge");
    }
  });
});
