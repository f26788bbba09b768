// The engine side of the admin API. Threats: a reset that leaves a usable factor behind (a
// credential index entry, recovery codes, a trusted device, a live step-up, or a factor whose
// enrollment confirmation was running during the reset), a status that shows a secret or a full
// address, and admin actions nobody can attribute afterwards.
import { generate } from "otplib";
import { describe, expect, it, vi } from "vitest";
import { codeEngine, enrollEmail } from "../../test/code-factors.js";
import {
  alice,
  codeAt,
  done,
  enrollAlice,
  outcome,
  stepUpAlice,
  testEngine,
  wrong,
} from "../../test/helpers.js";
import { register, softAuthenticator, webauthnEngine } from "../../test/soft-authenticator.js";
import { credentialIndexKey } from "../factors/webauthn/registration.js";
import { keys, pluginScope } from "../internal/keys.js";
import { memoryStore } from "../store/memory-store.js";
import type { Store } from "../store/store.js";
import { NO_END, readUserId } from "./admin.js";

type T = ReturnType<typeof testEngine>;
const by = "admin-1";
const rule = (t: T) => t.engine.rules.lookup("test", "step-up");

/** Fails `n` verifications of alice's TOTP (one challenge each, each past the delay of the one before). */
async function fail(t: T, n: number) {
  for (let i = 0; i < n; i++) {
    t.clock.advance(31_000);
    const { challenge } = await t.engine.openChallenge(alice, "s", rule(t));
    await t.engine.challenges
      .verify(alice, "s", challenge.id, { factor: "totp", code: wrong(await codeAt(t.clock.now())) })
      .catch(() => {});
  }
}

/** Starts a TOTP enrollment for alice (a second factor needs the step-up `sid`). */
async function startTotp(t: T, sid?: string) {
  return done(await t.engine.factors.enrollStart(alice, "totp", {}, sid)) as {
    factorId: string;
    secret: string;
  };
}

describe("admin.status", () => {
  it("shows factors as summaries with a masked destination: no secret, no full address", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const status = await t.engine.admin.status(alice.id);
    expect(status).toMatchObject({
      enabled: true,
      factorCount: 1,
      recoveryCodesRemaining: 10,
      devices: [],
      lockedUntil: null,
      userLocked: false,
      reviews: [],
    });
    expect(status.factors).toEqual([
      expect.objectContaining({ type: "email", title: expect.any(String), destination: "a***@example.com" }),
    ]);
    expect(JSON.stringify(status)).not.toContain("alice@example.com");
    expect(Object.keys(status.factors[0] ?? {}).sort()).toEqual(
      ["createdAt", "destination", "id", "lastUsedAt", "name", "primary", "title", "type"].sort(),
    );
  });

  it("of an unknown id is a user with nothing set up; a malformed id is refused", async () => {
    const t = testEngine();
    expect(await t.engine.admin.status("nobody")).toEqual({
      enabled: false,
      factorCount: 0,
      factors: [],
      recoveryCodesRemaining: 0,
      devices: [],
      lockedUntil: null,
      userLocked: false,
      reviews: [],
    });
    for (const bad of ["", "a\nb", "a\u0000", "x".repeat(257), "\u0085"]) {
      await expect(t.engine.admin.status(bad), JSON.stringify(bad)).rejects.toMatchObject({
        code: "INVALID_INPUT",
      });
    }
    expect(readUserId("ok@example.com / 42")).toBe("ok@example.com / 42");
  });

  it("keeps the policy's REVIEW decisions, newest first", async () => {
    const t = testEngine({ policy: { decide: () => "REVIEW" } });
    await enrollAlice(t);
    await t.engine.decide({ user: alice, sid: undefined, rule: rule(t), ip: "203.0.113.9" });
    t.clock.advance(1_000);
    await t.engine.decide({ user: alice, sid: undefined, rule: t.engine.rules.lookup("other", "thing") });
    const { reviews } = await t.engine.admin.status(alice.id);
    expect(reviews).toEqual([
      { at: expect.any(String), resource: "other", action: "thing" },
      { at: expect.any(String), resource: "test", action: "step-up", ip: "203.0.113.9" },
    ]);
  });

  it("says until when a locked user cannot verify: the hard lock has no end of its own", async () => {
    const t = testEngine({ limits: { lockout: { maxFailures: 3, delayAfter: 0 } } });
    await enrollAlice(t);
    await fail(t, 3);
    expect(await t.engine.admin.status(alice.id)).toMatchObject({ userLocked: true, lockedUntil: NO_END });
    await t.engine.admin.unlock(alice.id, { by });
    expect(await t.engine.admin.status(alice.id)).toMatchObject({ userLocked: false, lockedUntil: null });
    expect(t.events.at(-1)).toMatchObject({ type: "user.unlocked", userId: "alice", metadata: { by } });
  });

  it("gives the end of a growing delay", async () => {
    const t = testEngine({ limits: { lockout: { maxFailures: 100, delayAfter: 2 } } });
    await enrollAlice(t);
    await fail(t, 3);
    const { lockedUntil } = await t.engine.admin.status(alice.id);
    expect(Date.parse(String(lockedUntil))).toBeGreaterThan(t.clock.now());
    await t.engine.admin.unlock(alice.id, { by });
    expect((await t.engine.admin.status(alice.id)).lockedUntil).toBeNull();
  });
});

describe("admin.reset", () => {
  it("leaves nothing to verify with: factors, recovery codes, devices, step-ups, locks, pending enrollments and challenges", async () => {
    const seen: { type: string; user: { id: string; email?: string } }[] = [];
    const t = testEngine({
      notify: (n) => void seen.push(n),
      limits: { lockout: { maxFailures: 100, delayAfter: 1 } },
    });
    const { recoveryCodes } = await enrollAlice(t);
    const sid = await stepUpAlice(t);
    // A remembered device, an open challenge, a pending enrollment and a running delay.
    const { challenge } = await t.engine.openChallenge(alice, sid, rule(t));
    const remembered = await t.engine.challenges.verify(
      alice,
      sid,
      challenge.id,
      { factor: "totp", code: await codeAt(t.clock.now()), rememberDevice: true },
      { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0" },
    );
    t.clock.advance(30_000);
    const pending = await startTotp(t, remembered.sid);
    const open = await t.engine.openChallenge(alice, "s", rule(t));
    await fail(t, 2);
    const before = await t.engine.admin.status(alice.id);
    expect(before.devices).toHaveLength(1);
    expect(before.lockedUntil).not.toBeNull();

    await t.engine.admin.reset(alice.id, { by, user: alice });

    expect(await t.engine.admin.status(alice.id)).toEqual({
      enabled: false,
      factorCount: 0,
      factors: [],
      recoveryCodesRemaining: 0,
      devices: [],
      lockedUntil: null,
      userLocked: false,
      reviews: [],
    });
    expect(await t.engine.factors.list(alice.id)).toEqual([]);
    expect((await t.engine.sessions.check(alice.id, remembered.sid, rule(t))).fresh).toBe(false);
    const [rawChallenge] = await t.store.getMany(alice.id, [keys.challenge(open.challenge.id)]);
    expect(rawChallenge).toBeNull();
    const confirm = t.engine.factors.enrollConfirm(
      alice,
      "totp",
      pending.factorId,
      { code: await codeAt(t.clock.now()) },
      undefined,
    );
    expect(await outcome(confirm)).toBe("ENROLLMENT_NOT_FOUND");
    // A recovery code from before is dead too.
    const next = await t.engine.openChallenge(alice, "s2", rule(t));
    const used = t.engine.challenges.verify(alice, "s2", next.challenge.id, {
      factor: "recovery",
      code: recoveryCodes[0],
    });
    expect(await outcome(used)).not.toBe("ok");

    const mine = t.events.filter((e) => e.metadata?.by === by).map((e) => e.type);
    expect(mine).toEqual([
      "factor.removed",
      "factor.removed",
      "user.revoked",
      "device.revoked",
      "user.reset",
    ]);
    expect(t.events.find((e) => e.type === "user.reset")).toMatchObject({
      userId: "alice",
      severity: "high",
    });
    expect(seen.at(-1)).toMatchObject({ type: "user.reset", user: alice });
  });

  it("frees a passkey's credential id (the plugin's shared index), as the user's own removal does", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const factor = await register(t, alice, key);
    const credentialId = String(factor.data.credentialId);
    const index = [keys.plugin("webauthn", credentialIndexKey(credentialId))];
    expect((await t.store.getMany(pluginScope("webauthn"), index))[0]).toBe(alice.id);
    await t.engine.admin.reset(alice.id, { by });
    expect((await t.store.getMany(pluginScope("webauthn"), index))[0]).toBeNull();
  });

  it("lets the user start over: their next factor is a first one again, with recovery codes", async () => {
    const t = testEngine();
    await enrollAlice(t);
    await t.engine.admin.reset(alice.id, { by });
    t.clock.advance(1_000);
    const started = await startTotp(t);
    const confirmed = done(
      await t.engine.factors.enrollConfirm(
        alice,
        "totp",
        started.factorId,
        { code: await totpFor(t, started.secret) },
        undefined,
      ),
    );
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect((await t.engine.admin.status(alice.id)).factorCount).toBe(1);
  });

  it("sends the notice to the user given (by the app's findUser), and never to another one", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    await t.engine.admin.reset(alice.id, { by, user: alice });
    await vi.waitFor(() => expect(t.mail.at(-1)?.subject).toMatch(/^Security notice/));
    const notice = t.mail.at(-1);
    expect(notice?.to).toBe("alice@example.com");
    expect(notice?.text).toContain("An administrator reset two-step verification on your Test account");
    const count = t.mail.length;
    await t.engine.admin.reset(alice.id, { by, user: { id: "bob", email: "bob@example.com" } });
    await new Promise((r) => setTimeout(r, 20));
    expect(t.mail).toHaveLength(count);
  });

  it("needs to know who acts (`by`)", async () => {
    const t = testEngine();
    for (const action of ["reset", "revoke", "unlock"] as const) {
      await expect(t.engine.admin[action](alice.id, { by: "" })).rejects.toMatchObject({
        code: "INVALID_INPUT",
        details: { field: "by" },
      });
    }
  });
});

describe("admin.reset racing an enrollment confirmation", () => {
  it("a confirmation that writes its factor after the reset looked (the exact interleaving) undoes itself", async () => {
    // The reset runs in full between the confirmation's proof and its factor write: without the
    // reset mark the factor would be written after the reset deleted everything, and survive.
    const paused = pausable(memoryStore());
    const t = testEngine({}, paused.store);
    const started = await startTotp(t);
    paused.beforeFactorWrite(() => t.engine.admin.reset(alice.id, { by }));
    const confirm = t.engine.factors.enrollConfirm(
      alice,
      "totp",
      started.factorId,
      { code: await totpFor(t, started.secret) },
      undefined,
    );
    expect(await outcome(confirm)).toBe("ENROLLMENT_NOT_FOUND");
    expect(paused.ran()).toBe(true);
    expect(await t.engine.factors.list(alice.id)).toEqual([]);
    expect(await t.engine.factors.recoveryCodesRemaining(alice.id)).toBe(0);
    expect(t.events.filter((e) => e.type === "factor.removed").at(-1)).toMatchObject({
      metadata: { reason: "user.reset" },
    });
  });

  it("concurrent (Promise.all) resets and confirmations, first and second factors: no factor or code survives", async () => {
    for (let round = 0; round < 12; round++) {
      const jittery = pausable(memoryStore(), true);
      const t = testEngine({}, jittery.store);
      const second = round % 2 === 1;
      if (second) await enrollAlice(t);
      const sid = second ? await stepUpAlice(t) : undefined;
      const started = await startTotp(t, sid);
      const code = await totpFor(t, started.secret);
      const [, confirmed] = await Promise.all([
        t.engine.admin.reset(alice.id, { by }),
        outcome(t.engine.factors.enrollConfirm(alice, "totp", started.factorId, { code }, sid)),
      ]);
      expect(["ok", "ENROLLMENT_NOT_FOUND"], `round ${round}`).toContain(confirmed);
      expect(await t.engine.factors.list(alice.id), `round ${round}: ${confirmed}`).toEqual([]);
      expect(await t.engine.factors.recoveryCodesRemaining(alice.id)).toBe(0);
    }
  });
});

describe("admin.revoke", () => {
  it("ends every step-up and trusted device, and says who did it", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const sid = await stepUpAlice(t);
    expect((await t.engine.sessions.check(alice.id, sid, rule(t))).fresh).toBe(true);
    t.clock.advance(1_000);
    await t.engine.admin.revoke(alice.id, { by });
    expect((await t.engine.sessions.check(alice.id, sid, rule(t))).fresh).toBe(false);
    expect(t.events.slice(-2).map((e) => [e.type, e.metadata?.by])).toEqual([
      ["user.revoked", by],
      ["device.revoked", by],
    ]);
    expect((await t.engine.admin.status(alice.id)).factorCount).toBe(1); // factors stay
  });
});

/** The TOTP code of a secret at the engine's time. */
const totpFor = (t: T, secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });

/**
 * A store whose factor writes can be held until `beforeFactorWrite`'s work is done (once), and
 * whose calls can each yield for a random moment (`jitter`), so concurrent flows interleave
 * differently from run to run.
 */
function pausable(inner: Store, jitter = false) {
  let hook: (() => Promise<unknown>) | undefined;
  let ran = false;
  const store = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(inner)) {
    store[name] = async (...args: unknown[]) => {
      if (jitter) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)));
      if (name === "hashSet" && args[1] === keys.factors && hook) {
        const run = hook;
        hook = undefined;
        await run();
        ran = true;
      }
      return (value as (...a: unknown[]) => unknown).apply(inner, args);
    };
  }
  return {
    store: store as unknown as Store,
    beforeFactorWrite(work: () => Promise<unknown>) {
      hook = work;
    },
    ran: () => ran,
  };
}
