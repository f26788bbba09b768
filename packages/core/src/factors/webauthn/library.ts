/**
 * @simplewebauthn/server, loaded on first use: it brings ASN.1, X.509 and DI libraries that an app
 * with TOTP only should not load (start-up time, heap, and so GC on every request of the guard).
 */
let server: Promise<typeof import("@simplewebauthn/server")> | undefined;
let helpers: Promise<typeof import("@simplewebauthn/server/helpers")> | undefined;
let cbor: Promise<typeof import("@levischuck/tiny-cbor")> | undefined;

export function webauthnServer(): Promise<typeof import("@simplewebauthn/server")> {
  server ??= import("@simplewebauthn/server");
  return server;
}

export function webauthnHelpers(): Promise<typeof import("@simplewebauthn/server/helpers")> {
  helpers ??= import("@simplewebauthn/server/helpers");
  return helpers;
}

/** The CBOR decoder @simplewebauthn/server itself uses (so what it measures is what the library reads). */
export function webauthnCbor(): Promise<typeof import("@levischuck/tiny-cbor")> {
  cbor ??= import("@levischuck/tiny-cbor");
  return cbor;
}
