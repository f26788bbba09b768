import { describe, expect, it } from "vitest";
import { alice } from "../../../test/helpers.js";
import { attempt, register, softAuthenticator, webauthnEngine } from "../../../test/soft-authenticator.js";

// Attack: a security key's private key was extracted and cloned. The clone and the original each
// keep their own signature counter, so one of them soon presents a counter that does not grow
// (WebAuthn section 6.1.1). The server refuses it and reports it for investigation.

const regressions = (t: ReturnType<typeof webauthnEngine>) =>
  t.events.filter((e) => e.type === "webauthn.counter_regressed");

describe("webauthn: signature counter regression (cloned authenticator)", () => {
  it("a counter that does not grow is refused and reported as webauthn.counter_regressed", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const factor = await register(t, alice, key);
    for (let i = 0; i < 5; i++) expect(await attempt(t, alice, key)).toBe("ok");
    expect(key.signCount).toBe(5);

    expect(await attempt(t, alice, key, { tamper: { signCount: 5 } })).toBe("INVALID_CODE"); // equal
    expect(await attempt(t, alice, key, { tamper: { signCount: 2 } })).toBe("INVALID_CODE"); // lower
    expect(regressions(t)).toEqual([
      expect.objectContaining({ userId: alice.id, factor: "webauthn", factorId: factor.id }),
      expect.objectContaining({ userId: alice.id, factor: "webauthn", factorId: factor.id }),
    ]);
    const [stored] = await t.engine.factors.list(alice.id);
    expect(stored?.data.counter).toBe(5); // a refused assertion never lowers the stored counter
    expect(await attempt(t, alice, key)).toBe("ok"); // the original, moving on, still works
  });

  it("an authenticator that keeps no counter (always 0) is accepted every time", async () => {
    const t = webauthnEngine();
    const passkey = softAuthenticator({ counterStep: 0 });
    await register(t, alice, passkey);
    for (let i = 0; i < 3; i++) expect(await attempt(t, alice, passkey)).toBe("ok");
    expect(regressions(t)).toEqual([]);
  });

  it("a counter that drops to 0 after counting is a regression", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key)).toBe("ok");
    expect(await attempt(t, alice, key, { tamper: { signCount: 0 } })).toBe("INVALID_CODE");
    expect(regressions(t)).toHaveLength(1);
  });

  it("a forged low counter without a valid signature raises no clone alarm", async () => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key)).toBe("ok");
    const forged = { signCount: 0, signWith: softAuthenticator() };
    expect(await attempt(t, alice, key, { tamper: forged })).toBe("INVALID_CODE");
    expect(regressions(t)).toEqual([]);
  });
});
