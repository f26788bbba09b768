import type { FactorPlugin, FactorUi } from "./factor.js";
import { startAssertion, verifyAssertion } from "./webauthn/authentication.js";
import { WEBAUTHN } from "./webauthn/credential.js";
import { readAuthenticationResponse } from "./webauthn/input.js";
import { resolveWebAuthnOptions, type WebAuthnOptions } from "./webauthn/options.js";
import { confirmRegistration, credentialIndexKey, startRegistration } from "./webauthn/registration.js";

const WEBAUTHN_UI: FactorUi = Object.freeze<FactorUi>({
  title: "Security key or passkey",
  prompt: { kind: "webauthn" },
  enroll: {
    button: "Add a passkey or security key",
    title: "Add a passkey or security key",
    ceremony: "webauthn",
  },
});

export type { WebAuthnOptions } from "./webauthn/options.js";

/**
 * WebAuthn (passkeys and security keys) through @simplewebauthn/server. Reaches the level
 * `phishing-resistant`: the signature covers the origin and RP ID, so a look-alike site gets nothing
 * it can replay. One factor record per credential; a user may register several.
 *
 * Ceremonies: `enrollStart` -> `{ factorId, options }` for `navigator.credentials.create`, confirm
 * with `{ response }`; a challenge's `start` -> `{ options, factorIds }` for
 * `navigator.credentials.get`, verify with `{ factor: "webauthn", factorId, response }`, where
 * `factorId = factorIds[response.id]`.
 *
 * `amr` is `["hwk"]` (RFC 8176: proof of possession of a hardware-secured key) whether or not the
 * user was verified; the engine takes `amr` per plugin, not per verification.
 *
 * @throws TypeError at construction, naming a bad option (`rpID`, `origins`, `rpName`, `timeoutMs`,
 *   `attestation`).
 * @example
 * createStepUp({ ..., factors: [totp(), webauthn({ rpID: "example.com", origins: ["https://app.example.com"] })] })
 */
export function webauthn(options: WebAuthnOptions): FactorPlugin {
  const opts = resolveWebAuthnOptions(options);
  return Object.freeze({
    type: WEBAUTHN,
    level: "phishing-resistant",
    amr: Object.freeze(["hwk"]),
    verifiesUser: true,
    ui: WEBAUTHN_UI,
    enrollStart: (ctx, _factorId, input) => startRegistration(opts, ctx, input),
    enrollConfirm: (ctx, factorId, pending, input) =>
      confirmRegistration(opts, ctx, factorId, pending, input),
    challengeStart: (ctx, factor, challenge) => startAssertion(opts, ctx, factor, challenge),
    checkInput(input) {
      readAuthenticationResponse(input);
    },
    verify: (ctx, factor, challenge, input) => verifyAssertion(opts, ctx, factor, challenge, input),
    async removed(ctx, factor) {
      // The credential id is free again, for this user or another, once its factor is gone.
      const id = factor.data.credentialId;
      // Only while it names this user: a late removal never frees an id another user holds now.
      if (typeof id === "string") await ctx.shared.deleteIfEquals(credentialIndexKey(id), ctx.user.id);
    },
  } satisfies FactorPlugin);
}
