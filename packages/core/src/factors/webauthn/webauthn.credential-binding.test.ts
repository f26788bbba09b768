import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { alice, outcome } from "../../../test/helpers.js";
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

// Attack: Bob, signed in as himself on a shared device or holding his own key, answers Alice's
// step-up with his credential; or an attacker signs with a key that is not the registered one; or
// re-registers a known credential to reset its counter. The lookup is always scoped to the
// signed-in user, and the asserted credential must be the one the factor record holds.

const bob = { id: "bob", email: "bob@example.com" };

describe("webauthn: the asserted credential belongs to the signed-in user", () => {
  it("Bob's credential asserted in Alice's challenge is refused", async () => {
    const t = webauthnEngine();
    const aliceKey = softAuthenticator();
    const bobKey = softAuthenticator();
    const aliceFactor = await register(t, alice, aliceKey);
    const bobFactor = await register(t, bob, bobKey);

    const challenge = await openChallenge(t, alice, "sid-a");
    const { options } = await startAssertion(t, alice, "sid-a", challenge.id);
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([aliceKey.credentialId]);
    // A real browser would not even offer Bob's key; a scripted client ignores allowCredentials.
    const forged = bobKey.authenticate(options, { ignoreLists: true });
    expect(await outcome(verifyAssertion(t, alice, "sid-a", challenge.id, forged, bobFactor.id))).toBe(
      "FACTOR_NOT_FOUND", // Bob's factor id is not among Alice's factors
    );
    await startAssertion(t, alice, "sid-a", challenge.id);
    const again = bobKey.authenticate(options, { ignoreLists: true });
    expect(await outcome(verifyAssertion(t, alice, "sid-a", challenge.id, again, aliceFactor.id))).toBe(
      "INVALID_CODE",
    );
    expect(await attempt(t, alice, bobKey, { tamper: { ignoreLists: true } })).toBe("INVALID_CODE");
  });

  it("a userHandle of another user is refused, even on Alice's own credential", async () => {
    const t = webauthnEngine();
    const aliceKey = softAuthenticator();
    const bobKey = softAuthenticator();
    await register(t, alice, aliceKey);
    await register(t, bob, bobKey);
    expect(bobKey.userHandle).not.toBe(aliceKey.userHandle);
    expect(await attempt(t, alice, aliceKey, { tamper: { userHandle: bobKey.userHandle ?? null } })).toBe(
      "INVALID_CODE",
    );
    // No userHandle at all is fine (non-discoverable credentials do not return one).
    expect(await attempt(t, alice, aliceKey, { tamper: { userHandle: null } })).toBe("ok");
  });

  it("a signature by another key over Alice's credential id is refused", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { tamper: { signWith: softAuthenticator() } })).toBe("INVALID_CODE");
  });

  it("another of Alice's credentials answering for the picked factor is refused (counters stay per record)", async () => {
    const t = webauthnEngine();
    const first = softAuthenticator();
    const second = softAuthenticator();
    const firstFactor = await register(t, alice, first);
    await register(t, alice, second);
    const counters = async () => (await t.engine.factors.list(alice.id)).map((f) => f.data.counter);
    const before = await counters();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const response = second.authenticate(options);
    // The client must send the factor id that `start` mapped the credential to.
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, firstFactor.id))).toBe(
      "INVALID_CODE",
    );
    expect(await counters()).toEqual(before);
  });

  it("an assertion reporting another credential id than the one that signed is refused", async () => {
    const t = webauthnEngine();
    const first = softAuthenticator();
    const second = softAuthenticator();
    const firstFactor = await register(t, alice, first);
    await register(t, alice, second);
    // The signature does not cover the credential id: the server must match it to the record itself.
    const tamper = { reportId: second.credentialId };
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const response = first.authenticate(options, tamper);
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, firstFactor.id))).toBe(
      "INVALID_CODE",
    );
  });

  it("a credential registered after `start` was not in allowCredentials and is refused", async () => {
    const t = webauthnEngine();
    await register(t, alice, softAuthenticator());
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const late = softAuthenticator();
    const lateFactor = await register(t, alice, late);
    const response = late.authenticate(options, { ignoreLists: true });
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, lateFactor.id))).toBe(
      "INVALID_CODE",
    );
  });

  it("re-registering a known credential is refused: excluded in the options, rejected on confirm", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key)).toBe("ok");
    const sid = await stepUpWithKey(t, alice, key); // adding a credential needs a fresh step-up
    const { factorId, options } = await registrationOptions(t, alice, sid);
    expect(options.excludeCredentials).toEqual([
      { id: key.credentialId, type: "public-key", transports: ["usb"] },
    ]);
    expect(() => key.register(options)).toThrow(/InvalidStateError/); // what a real authenticator does
    const response = key.register(options, { ignoreLists: true }); // a scripted client does not care
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, sid)),
    ).toBe("INVALID_CODE");
    const factors = await t.engine.factors.list(alice.id);
    expect(factors).toHaveLength(1);
    expect(factors[0]?.data.counter).toBe(2); // the counter was not reset to 0
  });
});

describe("webauthn: malformed responses are rejected before they count", () => {
  it("bad shapes are INVALID_INPUT and leave the WebAuthn challenge usable", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const factor = await register(t, alice, key);
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const good = key.authenticate(options);
    const bad: unknown[] = [
      undefined,
      "a string",
      { ...good, type: "password" },
      { ...good, rawId: "AAAA" },
      { ...good, id: "not base64url!" },
      {
        ...good,
        response: { ...good.response, clientDataJSON: Buffer.from("not json").toString("base64url") },
      },
      { ...good, response: { ...good.response, signature: 42 } },
      { ...good, response: { ...good.response, userHandle: ["x"] } },
    ];
    for (const response of bad) {
      const verdict = await outcome(
        t.engine.challenges.verify(alice, "sid-1", challenge.id, {
          factor: "webauthn",
          factorId: factor.id,
          response,
        }),
      );
      expect(verdict).toBe("INVALID_INPUT");
    }
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, good, factor.id))).toBe("ok");
  });

  it("a malformed registration response is INVALID_INPUT", async () => {
    const t = webauthnEngine();
    const { factorId, options } = await registrationOptions(t, alice);
    for (const response of [null, { id: "AAAA", rawId: "AAAA", type: "public-key" }, { response: {} }]) {
      expect(
        await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
      ).toBe("INVALID_INPUT");
    }
    // Malformed bodies are not attempts: the registration challenge is still usable.
    const response = softAuthenticator().register(options);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("ok");
  });
});

// Attack: with attestation "none" anyone can register any credential id with their own key. A
// second account claiming a victim's credential id would make lookups by id ambiguous (WebAuthn
// section 7.1 step 26: refuse an id registered to any user); an oversized id is no credential.
describe("webauthn: credential ids", () => {
  it("an id already registered to another user is refused; once that factor is removed it is free", async () => {
    const t = webauthnEngine();
    const id = new Uint8Array(randomBytes(32));
    const aliceKey = softAuthenticator({ credentialId: id });
    const aliceFactor = await register(t, alice, aliceKey);
    const { factorId, options } = await registrationOptions(t, bob);
    const response = softAuthenticator({ credentialId: id }).register(options);
    expect(
      await outcome(t.engine.factors.enrollConfirm(bob, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
    expect(await t.engine.factors.list(bob.id)).toEqual([]);
    // Alice removes hers (after a step-up with it): the id can be registered again.
    const sid = await stepUpWithKey(t, alice, aliceKey);
    await t.engine.factors.remove(alice, aliceFactor.id, sid);
    expect(await register(t, bob, softAuthenticator({ credentialId: id }))).toMatchObject({
      type: "webauthn",
    });
  });

  it("two users racing to register one credential id: exactly one gets it", async () => {
    const t = webauthnEngine();
    const id = new Uint8Array(randomBytes(32));
    const users = [alice, bob, { id: "carol", email: "carol@example.com" }];
    const started = await Promise.all(users.map((u) => registrationOptions(t, u)));
    const results = await Promise.all(
      users.map((u, i) => {
        const s = started[i];
        if (!s) throw new Error("no options");
        const response = softAuthenticator({ credentialId: id }).register(s.options);
        return outcome(t.engine.factors.enrollConfirm(u, "webauthn", s.factorId, { response }, undefined));
      }),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });

  it("a credential id over 1023 bytes is refused", async () => {
    const t = webauthnEngine();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = softAuthenticator({ credentialId: new Uint8Array(randomBytes(1030)) }).register(options);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
    const fits = softAuthenticator({ credentialId: new Uint8Array(randomBytes(1023)) });
    expect(await register(t, alice, fits)).toMatchObject({ type: "webauthn" });
  });
});
