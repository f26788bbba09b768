import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import {
  type FactorRecord,
  type RuleOptions,
  type StepUpOptions,
  type StepUpUser,
  totp,
  webauthn,
} from "../src/index.js";
import { done, outcome, stepUpAlice, testEngine } from "./helpers.js";

// A software authenticator (CTAP2-like, ES256, "none" attestation) that produces real WebAuthn
// responses, signed with a real P-256 key, so tests exercise @simplewebauthn/server and the factor
// end to end. Every field a hostile client or a cloned authenticator controls can be bent through
// `Tamper`.

/** Authenticator data flags (WebAuthn section 6.1). */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

/** What an attacker (or a broken client) may change in one ceremony. */
export interface Tamper {
  /** `origin` in clientDataJSON (a phishing site reports its own). */
  origin?: string;
  /** `crossOrigin` in clientDataJSON (the ceremony ran in a foreign iframe). */
  crossOrigin?: boolean;
  /** RP ID whose hash goes into authenticator data. */
  rpID?: string;
  /** User presence flag. @default true */
  up?: boolean;
  /** User verification flag. @default the authenticator's `userVerifying` */
  uv?: boolean;
  /** Signature counter to report instead of the next one. */
  signCount?: number;
  /** userHandle to return (base64url); `null` returns none. @default the registered handle */
  userHandle?: string | null;
  /** Sign with this authenticator's key instead (a different private key). */
  signWith?: SoftAuthenticator;
  /** Challenge to sign instead of the one in the options. */
  challenge?: string;
  /** Answer even when the credential is not in allowCredentials / is in excludeCredentials. */
  ignoreLists?: boolean;
  /** Credential id to report in `id`/`rawId` (the signature does not cover it). */
  reportId?: string;
}

export interface SoftAuthenticatorOptions {
  rpID?: string;
  origin?: string;
  /** Whether the authenticator verifies the user (PIN, biometric). @default true */
  userVerifying?: boolean;
  /** Added to the signature counter per assertion; 0 keeps no counter (like most passkeys). @default 1 */
  counterStep?: number;
  transports?: string[];
  /** The credential id to create (an attacker's authenticator can choose any). @default 32 random bytes */
  credentialId?: Uint8Array;
  /** Its key's curve: P-256 (ES256) or P-384 (ES384, which stepup does not offer). @default "P-256" */
  curve?: "P-256" | "P-384";
  /** The COSE algorithm its key claims at registration, whatever the key is (a crafted response). */
  claimAlg?: number;
}

export interface SoftAuthenticator {
  /** base64url id of its one credential. */
  readonly credentialId: string;
  /** The signature counter it reported last. */
  readonly signCount: number;
  /** The user handle it was registered with (base64url), once registered. */
  readonly userHandle: string | undefined;
  register(options: PublicKeyCredentialCreationOptionsJSON, tamper?: Tamper): RegistrationResponseJSON;
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, tamper?: Tamper): AuthenticationResponseJSON;
  /** ECDSA P-256 SHA-256 (P-384 SHA-384 for a P-384 key), DER-encoded (what WebAuthn's ES256 signatures are). */
  sign(data: Uint8Array): Buffer;
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest();
const b64url = (data: Uint8Array) => Buffer.from(data).toString("base64url");

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** The COSE_Key (RFC 9053) of a P-256 public key: {1: EC2, 3: ES256, -1: P-256, -2: x, -3: y} (P-384: ES384, crv 2). */
function coseKey(publicKey: KeyObject, p384 = false, claimAlg?: number): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  const y = Buffer.from(jwk.y ?? "", "base64url");
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, claimAlg ?? (p384 ? -35 : -7)],
      [-1, p384 ? 2 : 1],
      [-2, new Uint8Array(x)],
      [-3, new Uint8Array(y)],
    ]),
  );
}

/** Creates an authenticator holding one fresh credential. */
export function softAuthenticator(init: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  const rpID = init.rpID ?? "localhost";
  const origin = init.origin ?? "http://localhost:3000";
  const counterStep = init.counterStep ?? 1;
  const p384 = init.curve === "P-384";
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: p384 ? "P-384" : "P-256" });
  const credentialId = init.credentialId ?? randomBytes(32);
  const id = b64url(credentialId);
  let signCount = 0;
  let userHandle: string | undefined;

  function flags(t: Tamper, extra = 0): number {
    return ((t.up ?? true) ? UP : 0) | ((t.uv ?? init.userVerifying ?? true) ? UV : 0) | extra;
  }

  function clientData(type: string, challenge: string, t: Tamper): string {
    const json = { type, challenge: t.challenge ?? challenge, origin: t.origin ?? origin };
    const body =
      t.crossOrigin === undefined ? { ...json, crossOrigin: false } : { ...json, crossOrigin: t.crossOrigin };
    return Buffer.from(JSON.stringify(body)).toString("base64url");
  }

  const self: SoftAuthenticator = {
    credentialId: id,
    get signCount() {
      return signCount;
    },
    get userHandle() {
      return userHandle;
    },
    sign: (data) => sign(p384 ? "sha384" : "sha256", data, { key: privateKey, dsaEncoding: "der" }),

    register(options, t = {}) {
      if (options.rp.id !== rpID)
        throw new Error(`soft authenticator: rp.id ${options.rp.id} is not ${rpID}`);
      if (!t.ignoreLists && options.excludeCredentials?.some((c) => c.id === id)) {
        throw new Error("InvalidStateError: the credential is excluded");
      }
      userHandle = options.user.id;
      const attested = Buffer.concat([
        Buffer.alloc(16), // AAGUID: zero, as "none" attestation reports
        Buffer.from([credentialId.length >> 8, credentialId.length & 0xff]),
        credentialId,
        coseKey(publicKey, p384, init.claimAlg),
      ]);
      const authData = Buffer.concat([
        sha256(t.rpID ?? rpID),
        Buffer.from([flags(t, AT)]),
        uint32(t.signCount ?? signCount),
        attested,
      ]);
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Map<string, string> | Uint8Array>([
          ["fmt", "none"],
          ["attStmt", new Map<string, string>()],
          ["authData", new Uint8Array(authData)],
        ]),
      );
      return {
        id,
        rawId: id,
        type: "public-key",
        clientExtensionResults: {},
        authenticatorAttachment: "cross-platform",
        response: {
          clientDataJSON: clientData("webauthn.create", options.challenge, t),
          attestationObject: b64url(attestationObject),
          transports: init.transports ?? ["usb"],
        },
      };
    },

    authenticate(options, t = {}) {
      if (options.rpId !== undefined && options.rpId !== rpID) {
        throw new Error(`soft authenticator: rpId ${options.rpId} is not ${rpID}`);
      }
      const allowed = options.allowCredentials;
      if (!t.ignoreLists && allowed && allowed.length > 0 && !allowed.some((c) => c.id === id)) {
        throw new Error("NotAllowedError: no allowed credential on this authenticator");
      }
      if (t.signCount === undefined) signCount += counterStep;
      const authData = Buffer.concat([
        sha256(t.rpID ?? rpID),
        Buffer.from([flags(t)]),
        uint32(t.signCount ?? signCount),
      ]);
      const clientDataJSON = clientData("webauthn.get", options.challenge, t);
      const signed = Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, "base64url"))]);
      const returnedHandle = t.userHandle === undefined ? userHandle : t.userHandle;
      return {
        id: t.reportId ?? id,
        rawId: t.reportId ?? id,
        type: "public-key",
        clientExtensionResults: {},
        authenticatorAttachment: "cross-platform",
        response: {
          clientDataJSON,
          authenticatorData: b64url(authData),
          signature: b64url((t.signWith ?? self).sign(signed)),
          ...(returnedHandle ? { userHandle: returnedHandle } : {}),
        },
      };
    },
  };
  return self;
}

// Engine harness for the WebAuthn tests: the real engine (memory store, fake clock) with TOTP and
// WebAuthn for rpID `localhost` and origin `http://localhost:3000`.

export const RP_ID = "localhost";
export const ORIGIN = "http://localhost:3000";

export type TestEngine = ReturnType<typeof testEngine>;

export function webauthnEngine(overrides: Partial<StepUpOptions> = {}): TestEngine {
  return testEngine({ factors: [totp(), webauthn({ rpID: RP_ID, origins: [ORIGIN] })], ...overrides });
}

/** Registration options for `user`, as the engine hands them to the browser. */
export async function registrationOptions(t: TestEngine, user: StepUpUser, sid?: string) {
  const started = done(await t.engine.factors.enrollStart(user, "webauthn", {}, sid)) as { factorId: string };
  return {
    factorId: started.factorId,
    options: (started as Record<string, unknown>).options as PublicKeyCredentialCreationOptionsJSON,
  };
}

/** A step-up for stepup's own `factor.add` rule proved with `authenticator`; the new session id. */
export async function stepUpWithKey(t: TestEngine, user: StepUpUser, authenticator: SoftAuthenticator) {
  const sid = `step-up-${crypto.randomUUID()}`;
  const { challenge } = await t.engine.openChallenge(user, sid, t.engine.ownRules["factor.add"]);
  const { options, factorIds } = await startAssertion(t, user, sid, challenge.id);
  const response = authenticator.authenticate(options);
  const result = await t.engine.challenges.verify(user, sid, challenge.id, {
    factor: "webauthn",
    factorId: factorIds[response.id],
    response,
  });
  return result.sid;
}

/** The first authenticator each user registered per engine: it proves the step-up for the next ones. */
const firstKeys = new WeakMap<TestEngine, Map<string, SoftAuthenticator>>();

/**
 * Registers `authenticator` for `user` through the engine; the new factor record. A user's second
 * credential needs a fresh step-up (`stepup:factor.add`), as in production: the helper proves it
 * with the user's first registered authenticator (whose signature counter moves by one).
 */
export async function register(
  t: TestEngine,
  user: StepUpUser,
  authenticator: SoftAuthenticator,
  tamper?: Tamper,
  sid?: string,
): Promise<FactorRecord> {
  const keys = firstKeys.get(t) ?? new Map<string, SoftAuthenticator>();
  firstKeys.set(t, keys);
  const first = keys.get(user.id);
  let session = sid;
  if (session === undefined && (await t.engine.hasFactors(user.id))) {
    // With a passkey, prove it with the first one; else with the (RFC seed) TOTP of enrollAlice.
    session = first
      ? await stepUpWithKey(t, user, first)
      : await stepUpAlice(t, `totp-${crypto.randomUUID()}`);
  }
  const { factorId, options } = await registrationOptions(t, user, session);
  const response = authenticator.register(options, tamper);
  const factor = done(
    await t.engine.factors.enrollConfirm(user, "webauthn", factorId, { response }, session),
  ).factor;
  if (!first) keys.set(user.id, authenticator);
  return factor;
}

/** Opens a step-up challenge under a rule requiring `phishing-resistant` unless told otherwise. */
export async function openChallenge(t: TestEngine, user: StepUpUser, sid: string, rule: RuleOptions = {}) {
  // One rule per pair: other options get their own action name.
  const extra = Object.entries(rule)
    .map(([k, v]) => `${k}-${String(v)}`)
    .join("-");
  const action = extra === "" ? "open" : `open-${extra}`.slice(0, 64);
  const resolved = t.engine.rules.declare("vault", action, { level: "phishing-resistant", ...rule });
  return (await t.engine.openChallenge(user, sid, resolved)).challenge;
}

/** Runs a challenge's WebAuthn start step: the browser's options and the credential-to-factor map. */
export async function startAssertion(
  t: TestEngine,
  user: StepUpUser,
  sid: string,
  challengeId: string,
  factorId?: string,
) {
  const started = await t.engine.challenges.start(user, sid, challengeId, {
    factor: "webauthn",
    ...(factorId === undefined ? {} : { factorId }),
  });
  return {
    options: started.options as PublicKeyCredentialRequestOptionsJSON,
    factorIds: started.factorIds as Record<string, string>,
  };
}

/** Submits an assertion for a challenge, naming the factor the way the browser client does. */
export function verifyAssertion(
  t: TestEngine,
  user: StepUpUser,
  sid: string,
  challengeId: string,
  response: AuthenticationResponseJSON,
  factorId: string | undefined,
) {
  return t.engine.challenges.verify(user, sid, challengeId, { factor: "webauthn", factorId, response });
}

/**
 * After a refused attempt: a new start of the same step-up challenge gives a new WebAuthn challenge,
 * and `authenticator`'s untouched assertion for it proves ("ok", or the StepUpError code).
 */
export async function retryWithNewStart(
  t: TestEngine,
  user: StepUpUser,
  sid: string,
  challengeId: string,
  authenticator: SoftAuthenticator,
  factorId: string,
): Promise<string> {
  const fresh = await startAssertion(t, user, sid, challengeId);
  return outcome(
    verifyAssertion(t, user, sid, challengeId, authenticator.authenticate(fresh.options), factorId),
  );
}

/**
 * One whole step-up with WebAuthn: open a challenge, start, let `authenticator` answer (bent by
 * `tamper`), verify with the factor id the start step mapped its credential to. Resolves to "ok" or
 * the StepUpError code.
 */
export async function attempt(
  t: TestEngine,
  user: StepUpUser,
  authenticator: SoftAuthenticator,
  options: { rule?: RuleOptions; tamper?: Tamper; sid?: string } = {},
): Promise<string> {
  const sid = options.sid ?? "sid-1";
  const challenge = await openChallenge(t, user, sid, options.rule);
  const { options: request, factorIds } = await startAssertion(t, user, sid, challenge.id);
  const response = authenticator.authenticate(request, options.tamper);
  return outcome(verifyAssertion(t, user, sid, challenge.id, response, factorIds[response.id]));
}
