import { describe, expect, it } from "vitest";
import { alice, codeAt, done, enrollAlice, outcome } from "../../../test/helpers.js";
import {
  attempt,
  openChallenge,
  register,
  registrationOptions,
  softAuthenticator,
  startAssertion,
  stepUpWithKey,
  verifyAssertion,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";

// The happy path through the real engine, and what "phishing-resistant" buys: a rule at that level
// is satisfied by WebAuthn only, never by a one-time code.

describe("webauthn: registration and authentication through the engine", () => {
  it("registers a security key, then a step-up with it reaches level phishing-resistant", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();

    const { factorId, options } = await registrationOptions(t, alice);
    expect(options.rp).toEqual({ id: "localhost", name: "Test" });
    expect(options.attestation).toBe("none");
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "preferred",
      userVerification: "preferred",
    });
    expect(options.excludeCredentials).toEqual([]);
    const { factor } = done(
      await t.engine.factors.enrollConfirm(
        alice,
        "webauthn",
        factorId,
        { response: key.register(options) },
        undefined,
      ),
    );
    expect(factor).toMatchObject({
      id: factorId,
      type: "webauthn",
      name: "Security key",
      data: { credentialId: key.credentialId, counter: 0, transports: ["usb"], userHandle: options.user.id },
    });
    expect(t.engine.config.factors.get("webauthn")?.level).toBe("phishing-resistant");

    const rule = t.engine.rules.declare("vault", "open", { level: "phishing-resistant" });
    const challenge = await openChallenge(t, alice, "sid-1");
    expect(challenge.factors).toEqual(["webauthn"]);
    const { options: request, factorIds } = await startAssertion(t, alice, "sid-1", challenge.id, factor.id);
    expect(request.rpId).toBe("localhost");
    expect(request.userVerification).toBe("preferred");
    expect(request.allowCredentials).toEqual([
      { id: key.credentialId, type: "public-key", transports: ["usb"] },
    ]);
    expect(factorIds).toEqual({ [key.credentialId]: factor.id });

    const response = key.authenticate(request);
    const result = await verifyAssertion(t, alice, "sid-1", challenge.id, response, factorIds[response.id]);
    expect(result.assurance).toMatchObject({ factor: "webauthn", level: "phishing-resistant", amr: ["hwk"] });
    expect(await t.engine.decide({ user: alice, sid: result.sid, rule })).toMatchObject({ outcome: "allow" });

    const [stored] = await t.engine.factors.list(alice.id);
    expect(stored?.data.counter).toBe(1); // the new signature counter is kept for the next check
    expect(stored?.lastUsedAtMs).toBe(t.clock.now());
  });

  it("a TOTP step-up does not satisfy a phishing-resistant rule, and TOTP cannot answer its challenge", async () => {
    const t = webauthnEngine();
    await enrollAlice(t);
    await register(t, alice, softAuthenticator());
    const mfa = t.engine.rules.declare("admin", "read", { level: "mfa" });
    const strong = t.engine.rules.declare("vault", "open", { level: "phishing-resistant" });

    const { challenge } = await t.engine.openChallenge(alice, "sid-1", mfa);
    const { sid } = await t.engine.challenges.verify(alice, "sid-1", challenge.id, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    expect(await t.engine.decide({ user: alice, sid, rule: mfa })).toMatchObject({ outcome: "allow" });
    expect(await t.engine.decide({ user: alice, sid, rule: strong })).toMatchObject({ outcome: "challenge" });

    const opened = await t.engine.openChallenge(alice, sid, strong);
    expect(opened.challenge.factors).toEqual(["webauthn"]);
    t.clock.advance(30_000);
    expect(
      await outcome(
        t.engine.challenges.verify(alice, sid, opened.challenge.id, {
          factor: "totp",
          code: await codeAt(t.clock.now()),
        }),
      ),
    ).toBe("FACTOR_NOT_ALLOWED");
  });

  it("several credentials per user: each is offered, each works, each keeps its own counter", async () => {
    const t = webauthnEngine();
    const yubikey = softAuthenticator({ transports: ["usb", "nfc"] });
    const phone = softAuthenticator({ transports: ["hybrid", "internal"], counterStep: 0 });
    const first = await register(t, alice, yubikey);
    // A second credential needs a fresh step-up with the first (the yubikey's counter moves to 1).
    const sid = await stepUpWithKey(t, alice, yubikey);
    const { factorId, options } = await registrationOptions(t, alice, sid);
    expect(options.excludeCredentials).toEqual([
      { id: yubikey.credentialId, type: "public-key", transports: ["usb", "nfc"] },
    ]);
    const { factor: second } = done(
      await t.engine.factors.enrollConfirm(
        alice,
        "webauthn",
        factorId,
        { response: phone.register(options), name: "Phone" },
        sid,
      ),
    );
    expect(second.name).toBe("Phone");
    // One stable user handle per user: the server can check it on every assertion.
    expect(second.data.userHandle).toBe(first.data.userHandle);

    const challenge = await openChallenge(t, alice, "sid-1");
    const { options: request, factorIds } = await startAssertion(t, alice, "sid-1", challenge.id);
    expect(request.allowCredentials?.map((c) => c.id).sort()).toEqual(
      [yubikey.credentialId, phone.credentialId].sort(),
    );
    expect(factorIds).toEqual({ [yubikey.credentialId]: first.id, [phone.credentialId]: second.id });

    for (let i = 0; i < 2; i++) {
      expect(await attempt(t, alice, yubikey, { sid: `y${i}` })).toBe("ok");
      expect(await attempt(t, alice, phone, { sid: `p${i}` })).toBe("ok"); // counter stays 0: allowed
    }
    const counters = Object.fromEntries(
      (await t.engine.factors.list(alice.id)).map((f) => [f.id, f.data.counter]),
    );
    expect(counters).toEqual({ [first.id]: 3, [second.id]: 0 });
  });

  it("registration options: a name and an attachment may be asked for; bad types are INVALID_INPUT", async () => {
    const t = webauthnEngine();
    for (const input of [{ name: 7 }, { name: "" }, { authenticatorAttachment: "usb" }, "text"]) {
      expect(await outcome(t.engine.factors.enrollStart(alice, "webauthn", input, undefined))).toBe(
        "INVALID_INPUT",
      );
    }
    const started = done(
      await t.engine.factors.enrollStart(
        alice,
        "webauthn",
        { authenticatorAttachment: "platform", ignored: true },
        undefined,
      ),
    ) as { factorId: string };
    expect(started).toMatchObject({
      options: { authenticatorSelection: { authenticatorAttachment: "platform" } },
    });
    const key = softAuthenticator();
    const options = (started as Record<string, unknown>).options as Parameters<typeof key.register>[0];
    const response = key.register(options);
    const { factor } = done(
      await t.engine.factors.enrollConfirm(alice, "webauthn", started.factorId, { response }, undefined),
    );
    expect(factor.name).toBe("Passkey");
  });

  it("the user handle is opaque: it is neither the user id nor the email", async () => {
    const t = webauthnEngine();
    const { options } = await registrationOptions(t, alice);
    const handle = Buffer.from(options.user.id, "base64url");
    expect(handle).toHaveLength(32);
    expect(handle.toString("latin1")).not.toContain(alice.id);
    expect(options.user.name).toBe(alice.email);
    const bob = await registrationOptions(t, { id: "bob" });
    expect(bob.options.user.id).not.toBe(options.user.id);
  });
});
