import { describe, expect, it } from "vitest";
import { alice, outcome } from "../../../test/helpers.js";
import {
  openChallenge,
  register,
  registrationOptions,
  retryWithNewStart,
  softAuthenticator,
  startAssertion,
  verifyAssertion,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";
import { keys } from "../../internal/keys.js";
import { assertionKey } from "./authentication.js";

// Attack: an assertion captured once (a logged request body, a malicious extension, a proxy) is
// sent again. Every WebAuthn challenge is single use, taken atomically on the first attempt.

async function setup() {
  const t = webauthnEngine();
  const key = softAuthenticator({ counterStep: 0 }); // no counter: replay protection is the challenge alone
  const factor = await register(t, alice, key);
  return { t, key, factor };
}

describe("webauthn: a captured assertion cannot be replayed", () => {
  it("on a fresh challenge: the assertion is bound to the WebAuthn challenge it signed", async () => {
    const { t, key, factor } = await setup();
    const first = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", first.id);
    const captured = key.authenticate(options);
    await verifyAssertion(t, alice, "sid-1", first.id, captured, factor.id);

    const second = await openChallenge(t, alice, "sid-1");
    await startAssertion(t, alice, "sid-1", second.id);
    expect(await outcome(verifyAssertion(t, alice, "sid-1", second.id, captured, factor.id))).toBe(
      "INVALID_CODE",
    );
    // and on the step-up challenge it was used for, which is gone
    expect(await outcome(verifyAssertion(t, alice, "sid-1", first.id, captured, factor.id))).toBe(
      "CHALLENGE_NOT_FOUND",
    );
  });

  it("on the same step-up challenge after a new start: the new start replaces the WebAuthn challenge", async () => {
    const { t, key, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const captured = key.authenticate(options);
    const again = await startAssertion(t, alice, "sid-1", challenge.id);
    expect(again.options.challenge).not.toBe(options.challenge);
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, captured, factor.id))).toBe(
      "INVALID_CODE",
    );
  });

  it("a failed attempt burns the WebAuthn challenge: a valid assertion for it fails afterwards", async () => {
    const { t, key, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const forged = key.authenticate(options, { signWith: softAuthenticator() });
    const valid = key.authenticate(options);
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, forged, factor.id))).toBe(
      "INVALID_CODE",
    );
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, valid, factor.id))).toBe(
      "INVALID_CODE",
    );
    // A new start gives a new WebAuthn challenge, and the step-up can still succeed.
    expect(await retryWithNewStart(t, alice, "sid-1", challenge.id, key, factor.id)).toBe("ok");
  });

  it("of two concurrent submissions of one assertion, exactly one succeeds", async () => {
    const { t, key, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const { options } = await startAssertion(t, alice, "sid-1", challenge.id);
    const response = key.authenticate(options);
    const results = await Promise.all(
      [1, 2, 3].map(() => outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, factor.id))),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });

  it("no start, no WebAuthn challenge: an assertion over a self-chosen challenge is refused", async () => {
    const { t, key, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    const response = key.authenticate({ challenge: Buffer.from("attacker-chosen").toString("base64url") });
    expect(await outcome(verifyAssertion(t, alice, "sid-1", challenge.id, response, factor.id))).toBe(
      "INVALID_CODE",
    );
  });

  it("the WebAuthn challenge expires with its step-up challenge", async () => {
    const { t, factor } = await setup();
    const challenge = await openChallenge(t, alice, "sid-1");
    t.clock.advance(300_000);
    await startAssertion(t, alice, "sid-1", challenge.id, factor.id);
    expect(
      await t.store.getMany(alice.id, [keys.plugin("webauthn", assertionKey(challenge.id))]),
    ).not.toEqual([null]);
    t.clock.set(challenge.expiresAtMs);
    expect(await t.store.getMany(alice.id, [keys.plugin("webauthn", assertionKey(challenge.id))])).toEqual([
      null,
    ]);
  });

  it("a registration challenge is single use too: a failed confirm burns it", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const { factorId, options } = await registrationOptions(t, alice);
    const wrong = key.register(options, { origin: "https://evil.example" });
    const right = key.register(options);
    const confirm = (response: unknown) =>
      outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined));
    expect(await confirm(wrong)).toBe("INVALID_CODE");
    expect(await confirm(right)).toBe("INVALID_CODE");
    expect(await register(t, alice, key)).toMatchObject({ type: "webauthn" }); // a new start works
  });
});
