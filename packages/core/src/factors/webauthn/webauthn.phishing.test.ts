import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { alice, outcome, testEngine } from "../../../test/helpers.js";
import {
  attempt,
  register,
  registrationOptions,
  softAuthenticator,
  type Tamper,
  webauthnEngine,
} from "../../../test/soft-authenticator.js";
import { webauthn } from "../webauthn.js";

// Attack: a look-alike site relays the ceremony (real-time phishing), or frames the real page.
// The browser writes the true origin into clientDataJSON and the RP ID hash into authenticator
// data, both signed; the server must insist on its exact values and refuse framed ceremonies.

const bent: [string, Tamper][] = [
  ["a phishing origin", { origin: "https://login-example.evil" }],
  ["the right host on another port", { origin: "http://localhost:3001" }],
  ["another scheme", { origin: "https://localhost:3000" }],
  ["a cross-origin iframe", { crossOrigin: true }],
  ["another RP ID", { rpID: "evil.example" }],
];

describe("webauthn: origin, RP ID and framing are exact", () => {
  it.each(bent)("an assertion from %s is refused", async (_, tamper) => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { tamper })).toBe("INVALID_CODE");
    expect(await attempt(t, alice, key)).toBe("ok"); // the same authenticator, untampered
  });

  it("the library's reason for a refusal goes to the server log, never to the client", async () => {
    const warnings: Record<string, unknown>[] = [];
    const t = webauthnEngine({ logger: { warn: (_m, meta) => void warnings.push(meta ?? {}), error() {} } });
    const key = softAuthenticator();
    await register(t, alice, key);
    expect(await attempt(t, alice, key, { tamper: { origin: "https://login-example.evil" } })).toBe(
      "INVALID_CODE",
    );
    expect(JSON.stringify(warnings)).toContain("login-example.evil");
  });

  it.each(bent)("a registration from %s is refused", async (_, tamper) => {
    const t = webauthnEngine();
    const key = softAuthenticator();
    const { factorId, options } = await registrationOptions(t, alice);
    const response = key.register(options, tamper);
    expect(
      await outcome(t.engine.factors.enrollConfirm(alice, "webauthn", factorId, { response }, undefined)),
    ).toBe("INVALID_CODE");
    expect(await t.engine.factors.list(alice.id)).toEqual([]);
  });

  it("crossOrigin is refused by the server, not left to the library (which accepts it without topOrigin)", async () => {
    const key = softAuthenticator({ counterStep: 0 });
    const t = webauthnEngine();
    const factor = await register(t, alice, key);
    const challenge = Buffer.from("c".repeat(32)).toString("base64url");
    const response = key.authenticate({ challenge }, { crossOrigin: true });
    const library = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: "http://localhost:3000",
      expectedRPID: "localhost",
      credential: {
        id: key.credentialId,
        publicKey: new Uint8Array(Buffer.from(String(factor.data.publicKey), "base64url")),
        counter: 0,
      },
      requireUserVerification: false,
    });
    expect(library.verified).toBe(true);
    expect(await attempt(t, alice, key, { tamper: { crossOrigin: true } })).toBe("INVALID_CODE");
  });

  it("origins are copied at construction: changing the caller's array later trusts nothing new", async () => {
    const origins = ["http://localhost:3000"];
    const t = testEngine({ factors: [webauthn({ rpID: "localhost", origins })] });
    const key = softAuthenticator();
    await register(t, alice, key);
    origins.push("http://evil.localhost:3000");
    expect(await attempt(t, alice, key, { tamper: { origin: "http://evil.localhost:3000" } })).toBe(
      "INVALID_CODE",
    );
  });
});
