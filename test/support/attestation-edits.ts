// CBOR-level edits of a registration's attestation object (test/support/fuzz-ceremonies.ts): the
// object the software authenticator wrote ({fmt: "none", attStmt: {}, authData}) decoded, one
// thing in it changed (a top-level entry, a field of the authenticator data, a label of the COSE
// key), encoded again. With attestation "none" nothing signs any of it: every check is the
// server's own (or the library's), so the model says for each edit whether it "may" still register
// (the authenticator's to choose, and the key still steps up) or must "never" (malformed, not
// ours, or a key that could never step up: a lockout), and why.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { isoCBOR } from "../../packages/core/test/cbor.js";

type Verdict = "may" | "never";
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest();
const encode = (v: unknown) => Buffer.from(isoCBOR.encode(v as never));

/** Authenticator data flags (WebAuthn section 6.1). */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;
const ED = 0x80;

/** COSE key labels (RFC 9052/9053) of an EC2 key. */
const KTY = 1;
const ALG = 3;
const CRV = -1;
const X = -2;
const Y = -3;

/** A change to the credential's COSE key (an EC2 P-256 ES256 key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}). */
export type KeyEdit =
  | { label: "kty"; value: unknown }
  | { label: "alg"; value: unknown }
  | { label: "crv"; value: unknown }
  | { label: "x" | "y"; how: "short" | "long" | "offCurve" | "zero" | "text" }
  | { drop: "kty" | "alg" | "crv" | "x" | "y" }
  | { extra: number | string; value: unknown };

export type AttestationEdit =
  /** Decoded and encoded again, nothing changed: the same bytes. */
  | { at: "same" }
  | { at: "fmt"; value: unknown }
  | {
      at: "attStmt";
      value: "packedSelf" | "packedRandom" | "x5c" | "alg" | "text" | "array" | "bytes" | "number";
    }
  | { at: "authDataType"; value: unknown }
  | { at: "drop"; key: "fmt" | "attStmt" | "authData" }
  | { at: "extra"; key: unknown; value: unknown }
  | { at: "duplicate"; key: "fmt" | "attStmt" | "authData"; wrongFirst: boolean }
  | { at: "rpIdHash"; of: string }
  | { at: "flags"; clear: number; set: number }
  | { at: "signCount"; value: number }
  | { at: "aaguid"; bytes: Uint8Array }
  | { at: "idLength"; delta: number }
  | { at: "credentialId"; bytes: Uint8Array; report: boolean }
  | { at: "key"; edit: KeyEdit };

export const keyEditArb: fc.Arbitrary<KeyEdit> = fc.oneof(
  fc.record({
    label: fc.constant("kty" as const),
    value: fc.constantFrom<unknown>(1, 3, 4, 0, -2, "EC2", 2),
  }),
  // ES384, ES512, ML-DSA-44, RS256 and EdDSA with an EC key, none, a string, and ES256 itself.
  fc.record({
    label: fc.constant("alg" as const),
    value: fc.constantFrom<unknown>(-35, -36, -48, -257, -8, 0, "ES256", -7),
  }),
  // P-384, P-521, Ed25519, secp256k1, none, a string, and P-256 itself.
  fc.record({
    label: fc.constant("crv" as const),
    value: fc.constantFrom<unknown>(2, 3, 6, 8, 0, "P-256", 1),
  }),
  fc.record({
    label: fc.constantFrom("x", "y") as fc.Arbitrary<"x" | "y">,
    how: fc.constantFrom("short", "long", "offCurve", "zero", "text") as fc.Arbitrary<
      "short" | "long" | "offCurve" | "zero" | "text"
    >,
  }),
  fc.record({
    drop: fc.constantFrom("kty", "alg", "crv", "x", "y") as fc.Arbitrary<"kty" | "alg" | "crv" | "x" | "y">,
  }),
  // kid (2), key_ops (4), unassigned labels, a text label: none of them is read.
  fc.record({
    extra: fc.constantFrom<number | string>(2, 4, 99, -99, "note"),
    value: fc.oneof(fc.constantFrom<unknown>(0, "x", true), fc.uint8Array({ maxLength: 16 })),
  }),
);

export const attestationEditArb: fc.Arbitrary<AttestationEdit> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ at: "same" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      at: fc.constant("fmt" as const),
      value: fc.constantFrom<unknown>(
        "packed",
        "fido-u2f",
        "tpm",
        "apple",
        "",
        "NONE",
        0,
        "none".repeat(300),
        null,
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      at: fc.constant("attStmt" as const),
      value: fc.constantFrom(
        "packedSelf",
        "packedRandom",
        "x5c",
        "alg",
        "text",
        "array",
        "bytes",
        "number",
      ) as fc.Arbitrary<
        "packedSelf" | "packedRandom" | "x5c" | "alg" | "text" | "array" | "bytes" | "number"
      >,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("authDataType" as const),
      value: fc.constantFrom<unknown>("authData", 0, [], new Map(), null, true),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("drop" as const),
      key: fc.constantFrom("fmt", "attStmt", "authData") as fc.Arbitrary<"fmt" | "attStmt" | "authData">,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("extra" as const),
      key: fc.constantFrom<unknown>("epAtt", "largeBlobKey", "x", 1, -1),
      value: fc.constantFrom<unknown>(true, 0, "x", new Uint8Array(4)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("duplicate" as const),
      key: fc.constantFrom("fmt", "attStmt", "authData") as fc.Arbitrary<"fmt" | "attStmt" | "authData">,
      wrongFirst: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("rpIdHash" as const),
      of: fc.constantFrom("evil.example", "LOCALHOST", "", "$rpID"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      at: fc.constant("flags" as const),
      clear: fc.constantFrom(0, UP, UV, AT, UP | UV, 0xff),
      set: fc.constantFrom(0, BE, BS, BE | BS, ED, UV, 0x02, 0x20),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("signCount" as const),
      value: fc.oneof(fc.constantFrom(0, 1, 2 ** 31), fc.nat({ max: 1_000_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("aaguid" as const),
      bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant("idLength" as const),
      delta: fc.constantFrom(-32, -1, 1, 2, 100, 0xffff),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      at: fc.constant("credentialId" as const),
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.constantFrom(new Uint8Array(0), new Uint8Array(1024), new Uint8Array(1023).fill(7)),
      ),
      report: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.record({ at: fc.constant("key" as const), edit: keyEditArb }) },
);

/** The result: the new attestation object, the id to report, the verdict and why, and how its key then signs. */
export interface Edited {
  attestationObject: Buffer;
  /** The credential id (base64url) to report in `id` and `rawId`, when the edit changed it. */
  reportId?: string;
  verdict: Verdict;
  why: string;
  /** The counter the registration reported (the next assertion's must be above it, unless both are 0). */
  signCount: number;
}

const LABELS = { kty: KTY, alg: ALG, crv: CRV, x: X, y: Y } as const;

/** A CBOR map written entry by entry (so a key may appear twice, which no encoder writes). */
function rawMap(entries: [unknown, unknown][]): Buffer {
  if (entries.length > 23) throw new Error("rawMap: too many entries");
  return Buffer.concat([
    Buffer.from([0xa0 | entries.length]),
    ...entries.flatMap(([k, v]) => [encode(k), encode(v)]),
  ]);
}

/**
 * Applies `edit` to the authenticator's real attestation object (`none`, no extensions), with
 * `sign` the credential's own key (for a packed self-attestation) and `clientDataHash` what it signs.
 */
export function editAttestation(
  original: Buffer,
  edit: AttestationEdit,
  ctx: { rpID: string; clientDataHash: Buffer; sign(data: Uint8Array): Buffer },
): Edited {
  const object = isoCBOR.decodeFirst<Map<string, unknown>>(new Uint8Array(original));
  const authData = Buffer.from(object.get("authData") as Uint8Array);
  const flags = authData[32] ?? 0;
  const counter = authData.readUInt32BE(33);
  const idLength = authData.readUInt16BE(53);
  const credentialId = authData.subarray(55, 55 + idLength);
  const keyBytes = authData.subarray(55 + idLength);
  const key = isoCBOR.decodeFirst<Map<number | string, unknown>>(new Uint8Array(keyBytes));
  const entries = (): [unknown, unknown][] => [...object.entries()];
  const withAuthData = (bytes: Buffer) => {
    const copy = new Map<unknown, unknown>(object);
    copy.set("authData", new Uint8Array(bytes));
    return encode(copy);
  };
  const out = (
    attestationObject: Buffer,
    verdict: Verdict,
    why: string,
    extra: { reportId?: string; signCount?: number } = {},
  ): Edited => ({ attestationObject, verdict, why, signCount: extra.signCount ?? counter, ...extra });
  switch (edit.at) {
    case "same":
      return out(encode(object), "may", "decoded and encoded again: the same bytes");
    case "fmt": {
      const copy = new Map<unknown, unknown>(object);
      copy.set("fmt", edit.value);
      // Another format with the empty statement of "none": every format but "none" needs a
      // statement (a signature, certificates), and anything else is no format the library knows.
      return out(
        encode(copy),
        edit.value === "none" ? "may" : "never",
        'fmt: only "none" goes with an empty attStmt',
      );
    }
    case "attStmt": {
      const copy = new Map<unknown, unknown>(object);
      const clientDataHash = ctx.clientDataHash;
      switch (edit.value) {
        case "packedSelf": {
          copy.set("fmt", "packed");
          const sig = ctx.sign(Buffer.concat([authData, clientDataHash]));
          copy.set(
            "attStmt",
            new Map<string, unknown>([
              ["alg", -7],
              ["sig", new Uint8Array(sig)],
            ]),
          );
          // A packed self-attestation signed by the credential's own key over authData and the
          // client data hash: a real format an authenticator may use instead of "none".
          return out(encode(copy), "may", "packed self-attestation signed by the credential's key");
        }
        case "packedRandom":
          copy.set("fmt", "packed");
          copy.set(
            "attStmt",
            new Map<string, unknown>([
              ["alg", -7],
              ["sig", new Uint8Array(sha256("not a signature"))],
            ]),
          );
          return out(encode(copy), "never", "packed self-attestation whose signature does not verify");
        case "x5c":
          copy.set(
            "attStmt",
            new Map<string, unknown>([["x5c", [new Uint8Array(sha256("not a certificate"))]]]),
          );
          return out(encode(copy), "never", '"none" with a non-empty statement');
        case "alg":
          copy.set("attStmt", new Map<string, unknown>([["alg", -7]]));
          return out(encode(copy), "never", '"none" with a non-empty statement');
        default: {
          const values = { text: "", array: [], bytes: new Uint8Array(0), number: 0 } as const;
          copy.set("attStmt", values[edit.value]);
          // WebAuthn section 6.5: attStmt is a map. An empty text, array or byte string is no empty
          // map (another spelling of one registration).
          return out(encode(copy), "never", "attStmt that is not a map");
        }
      }
    }
    case "authDataType": {
      const copy = new Map<unknown, unknown>(object);
      copy.set("authData", edit.value);
      return out(encode(copy), "never", "authData that is not a byte string");
    }
    case "drop": {
      const copy = new Map<unknown, unknown>(object);
      copy.delete(edit.key);
      return out(encode(copy), "never", `no ${edit.key}`);
    }
    case "extra": {
      // Entries nobody reads (CTAP2 has more response members than WebAuthn passes on): the
      // registration is the same, and its key steps up.
      const copy = new Map<unknown, unknown>(object);
      copy.set(edit.key, edit.value);
      return out(encode(copy), "may", "an extra entry, not read");
    }
    case "duplicate": {
      const wrong = { fmt: "packed", attStmt: new Map([["alg", -7]]), authData: new Uint8Array(37) }[
        edit.key
      ];
      const list = entries();
      const at = list.findIndex(([k]) => k === edit.key);
      const dup: [unknown, unknown] = [edit.key, wrong];
      if (edit.wrongFirst) list.splice(at, 0, dup);
      else list.splice(at + 1, 0, dup);
      // A map with a key twice is not valid CBOR (RFC 8949 section 5.6): whichever entry a decoder
      // keeps, it is another spelling of the registration, for another reader another one.
      return out(rawMap(list), "never", "a map with a key twice");
    }
    case "rpIdHash": {
      const of = edit.of === "$rpID" ? ctx.rpID : edit.of;
      const bytes = Buffer.concat([sha256(of), authData.subarray(32)]);
      return out(withAuthData(bytes), of === ctx.rpID ? "may" : "never", "the RP ID hash must be ours");
    }
    case "flags": {
      const now = (flags & ~edit.clear) | edit.set;
      const bytes = Buffer.from(authData);
      bytes[32] = now;
      // User presence is required; UV is each step-up's to ask; BE and BS are the authenticator's
      // (but backed up without being backup-eligible is impossible, the library refuses it); the
      // reserved bits (RFU1 0x02, RFU2 0x20) are ignored. No attested credential data flag (AT):
      // no key; extension data announced (ED) with none after the key: malformed.
      const ok = Boolean(now & UP) && Boolean(now & AT) && !(now & ED) && !(now & BS && !(now & BE));
      return out(withAuthData(bytes), ok ? "may" : "never", "flags: UP and AT set, no ED, no BS without BE");
    }
    case "signCount": {
      const bytes = Buffer.from(authData);
      bytes.writeUInt32BE(edit.value, 33);
      // The authenticator's own counter: any start is its to choose (the next assertion's must be above).
      return out(withAuthData(bytes), "may", "the counter is the authenticator's", { signCount: edit.value });
    }
    case "aaguid": {
      const bytes = Buffer.from(authData);
      Buffer.from(edit.bytes).copy(bytes, 37);
      // Only a label with "none" attestation (nothing certifies it): the authenticator's to say.
      return out(withAuthData(bytes), "may", "the AAGUID is unattested, a label");
    }
    case "idLength": {
      const bytes = Buffer.from(authData);
      bytes.writeUInt16BE(Math.max(0, Math.min(0xffff, idLength + edit.delta)), 53);
      // Shorter: the id is cut and the key starts inside it; longer: the key's bytes are read as
      // the id. Either way not the id reported, nor a key that decodes whole.
      return out(withAuthData(bytes), "never", "the credential id's length field does not match it");
    }
    case "credentialId": {
      const id = Buffer.from(edit.bytes);
      const bytes = Buffer.concat([
        authData.subarray(0, 53),
        Buffer.from([id.length >> 8, id.length & 0xff]),
        id,
        keyBytes,
      ]);
      // Any id is the authenticator's to choose, reported as the browser reports it (id, rawId),
      // up to WebAuthn's 1023 bytes; reported as the old one it is another credential's.
      const ok = edit.report && id.length > 0 && id.length <= 1023 && !id.equals(credentialId);
      const same = id.equals(credentialId);
      return out(
        withAuthData(bytes),
        ok || same ? "may" : "never",
        "the credential id: any, as reported, up to 1023 bytes",
        edit.report && !same ? { reportId: id.toString("base64url") } : {},
      );
    }
    case "key": {
      const e = edit.edit;
      const copy = new Map<number | string, unknown>(key);
      let verdict: Verdict = "never";
      let why: string;
      if ("drop" in e) {
        copy.delete(LABELS[e.drop]);
        // Every label of an EC2 key is needed to verify with it (kty, alg, crv, x, y).
        why = `the key without its ${e.drop}`;
      } else if ("extra" in e) {
        copy.set(e.extra, e.value);
        // Labels no verifier reads: the same key.
        verdict = "may";
        why = "an extra label in the key, not read";
      } else if (e.label === "x" || e.label === "y") {
        const label = LABELS[e.label];
        const c = Buffer.from(copy.get(label) as Uint8Array);
        const bent = {
          short: c.subarray(1),
          // (A leading zero: the same number, but WebAuthn wants the field's length exactly.)
          long: Buffer.concat([Buffer.alloc(1), c]),
          // One bit off: a point not on P-256 (no verifier imports it).
          offCurve: Buffer.from(c.map((b, i) => (i === c.length - 1 ? b ^ 1 : b))),
          zero: Buffer.alloc(c.length),
          text: c.toString("hex"),
        }[e.how];
        copy.set(label, typeof bent === "string" ? bent : new Uint8Array(bent));
        // Not a P-256 point of the field's size: no verifier takes it, the key never steps up.
        why = `the key's ${e.label} ${e.how}`;
      } else if ("value" in e) {
        const label = LABELS[e.label];
        copy.set(label, e.value);
        // Only its own value: ES256 needs an EC2 key (kty 2) on P-256 (crv 1, WebAuthn section
        // 5.8.5); another algorithm is not offered (ES384, ES512, ML-DSA-44), or does not go with an
        // EC2 key (RS256, EdDSA): either way no assertion of this key would verify.
        verdict = key.get(label) === e.value ? "may" : "never";
        why = `the key's ${e.label} ${String(e.value)}`;
      } else why = "no change";
      const newKey = encode(copy);
      return out(withAuthData(Buffer.concat([authData.subarray(0, 55 + idLength), newKey])), verdict, why);
    }
  }
}

/** The edit, for a failure message (byte arrays short). */
export const describeEdit = (edit: AttestationEdit) =>
  JSON.stringify(edit, (_, v) =>
    v instanceof Uint8Array ? `bytes(${v.length})` : v instanceof Map ? Object.fromEntries(v) : v,
  );
