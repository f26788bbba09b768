import { generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { describe, expect, it } from "vitest";
import { attestationObjectRefusal, signatureWellFormed } from "./encoding.js";

// Attack: a valid assertion re-spelled (its DER signature written twice, bytes appended, lengths
// changed) still verifies with @simplewebauthn/server's lenient reader. The server accepts one
// spelling per proof: real signatures of every key type pass, each malformation is refused.

const DATA = Buffer.from("authenticatorData || sha256(clientDataJSON)");
const bytes = (b: Uint8Array) => new Uint8Array(b);

function cose(entries: [number, number | Uint8Array][]): Uint8Array {
  return isoCBOR.encode(new Map(entries));
}

function ec2(namedCurve: string, crv: number, alg: number) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
  const jwk = publicKey.export({ format: "jwk" });
  const key = cose([
    [1, 2],
    [3, alg],
    [-1, crv],
    [-2, bytes(Buffer.from(jwk.x ?? "", "base64url"))],
    [-3, bytes(Buffer.from(jwk.y ?? "", "base64url"))],
  ]);
  const hash = { 1: "sha256", 2: "sha384", 3: "sha512" }[crv] ?? "sha256";
  return {
    key,
    publicKey,
    hash,
    sign: (d: Buffer) => sign(hash, d, { key: privateKey, dsaEncoding: "der" }),
  };
}

const p256 = ec2("P-256", 1, -7);
const p384 = ec2("P-384", 2, -35);
const p521 = ec2("P-521", 3, -36);

const ed = generateKeyPairSync("ed25519");
const ed25519Key = cose([
  [1, 1],
  [3, -8],
  [-1, 6],
  [-2, bytes(Buffer.from(ed.publicKey.export({ format: "jwk" }).x ?? "", "base64url"))],
]);

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
function rsaKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  return cose([
    [1, 3],
    [3, -257],
    [-1, bytes(Buffer.from(jwk.n ?? "", "base64url"))],
    [-2, bytes(Buffer.from(jwk.e ?? "", "base64url"))],
  ]);
}
const rsa2048Key = rsaKey(rsa.publicKey);

/** DER TLV with the minimal length (short form below 128). */
function tlv(tag: number, content: Uint8Array): Buffer {
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}
const der = (...ints: Uint8Array[]) => tlv(0x30, Buffer.concat(ints.map((i) => tlv(0x02, i))));

/** The r and s contents of a well-formed DER signature (as written, leading zero included). */
function integers(sig: Buffer): [Buffer, Buffer] {
  const at = sig[1] === 0x81 ? 3 : 2;
  const rLen = sig[at + 1] ?? 0;
  const r = sig.subarray(at + 2, at + 2 + rLen);
  const sAt = at + 2 + rLen;
  return [r, sig.subarray(sAt + 2, sAt + 2 + (sig[sAt + 1] ?? 0))];
}

const wellFormed = (key: Uint8Array, sig: Uint8Array) => signatureWellFormed(key, sig);

describe("webauthn signature encoding: real signatures pass", () => {
  it.each([
    ["P-256", p256],
    ["P-384", p384],
    ["P-521", p521],
  ])("%s ECDSA, DER (many, so r and s of every length and leading zero occur)", async (_, c) => {
    for (let i = 0; i < 40; i++) {
      const sig = c.sign(Buffer.concat([DATA, Buffer.from([i])]));
      expect(await wellFormed(c.key, sig), sig.toString("hex")).toBe(true);
      expect(der(...integers(sig))).toEqual(sig); // the test's DER builder writes what node:crypto does
    }
  });

  it("P-521's sequence needs the long form (0x81) and passes with it", async () => {
    const sig = p521.sign(DATA);
    expect(sig[1]).toBe(0x81);
    expect(await wellFormed(p521.key, sig)).toBe(true);
  });

  it("a high-S ECDSA signature passes: authenticators make them and WebAuthn does not ask for low S", async () => {
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"); // P-256 order
    const sig = p256.sign(DATA);
    const [r, s] = integers(sig);
    const other = n - BigInt(`0x${s.toString("hex")}`);
    let hex = other.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
    const flipped = der(r, Buffer.from(hex, "hex"));
    expect(verify(p256.hash, DATA, { key: p256.publicKey, dsaEncoding: "der" }, flipped)).toBe(true);
    expect(await wellFormed(p256.key, flipped)).toBe(true);
  });

  it("Ed25519 (64 bytes) and RSA 2048 (256 bytes)", async () => {
    expect(await wellFormed(ed25519Key, sign(null, DATA, ed.privateKey))).toBe(true);
    const rsaSig = sign("sha256", DATA, rsa.privateKey);
    expect(rsaSig).toHaveLength(256);
    expect(await wellFormed(rsa2048Key, rsaSig)).toBe(true);
  });
});

describe("webauthn signature encoding: every malformation of a valid ES256 signature is refused", () => {
  const sig = p256.sign(DATA);
  const [r, s] = integers(sig);
  const body = sig.subarray(2);
  const cases: [string, Uint8Array][] = [
    ["the DER written twice", Buffer.concat([sig, sig])],
    ["a trailing byte", Buffer.concat([sig, Buffer.from([0])])],
    ["the outer length one shorter", Buffer.concat([Buffer.from([0x30, body.length - 1]), body])],
    ["the outer length one longer", Buffer.concat([Buffer.from([0x30, body.length + 1]), body])],
    [
      "the outer length longer, with a byte to cover it",
      Buffer.concat([Buffer.from([0x30, body.length + 1]), body, Buffer.from([0])]),
    ],
    [
      "a long-form length where short form is due",
      Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]),
    ],
    ["a two-byte long-form length", Buffer.concat([Buffer.from([0x30, 0x82, 0, body.length]), body])],
    ["an indefinite length", Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])])],
    // Within the size limit, so only minimality refuses them: 33 bytes, 00 then a byte below 0x80.
    [
      "a non-minimal INTEGER (an extra leading 00)",
      der(Buffer.concat([Buffer.from([0]), Buffer.alloc(32, 0x11)]), s),
    ],
    ["a non-minimal s", der(r, Buffer.concat([Buffer.from([0]), Buffer.alloc(32, 0x7f)]))],
    ["a non-minimal small INTEGER (00 01)", der(Buffer.from([0, 1]), s)],
    ["a negative INTEGER", der(Buffer.concat([Buffer.from([0xff]), r.subarray(-31)]), s)],
    ["a zero INTEGER", der(Buffer.from([0]), s)],
    ["an empty INTEGER", der(Buffer.alloc(0), s)],
    [
      "an INTEGER longer than the field size + 1",
      der(Buffer.concat([Buffer.from([0, 0x80]), Buffer.alloc(32, 1)]), s),
    ],
    [
      "a P-384-sized INTEGER under a P-256 key",
      der(Buffer.concat([Buffer.from([0x7f]), Buffer.alloc(47, 1)]), s),
    ],
    ["a third INTEGER", der(r, s, s)],
    ["one INTEGER", der(r)],
    ["the wrong tag on the sequence (SET)", Buffer.concat([Buffer.from([0x31]), sig.subarray(1)])],
    [
      "the wrong tag on an INTEGER (BIT STRING)",
      Buffer.concat([tlv(0x30, Buffer.concat([tlv(0x03, r), tlv(0x02, s)]))]),
    ],
    [
      "raw r || s (IEEE P1363, not DER)",
      Buffer.concat([
        Buffer.alloc(32 - r.length + (r[0] === 0 ? 1 : 0)),
        r.subarray(r[0] === 0 ? 1 : 0),
        Buffer.alloc(32 - s.length + (s[0] === 0 ? 1 : 0)),
        s.subarray(s[0] === 0 ? 1 : 0),
      ]),
    ],
    ["cut short", sig.subarray(0, sig.length - 1)],
    ["empty", Buffer.alloc(0)],
  ];
  it.each(cases)("%s", async (_, malformed) => {
    expect(await wellFormed(p256.key, malformed)).toBe(false);
  });
});

describe("webauthn signature encoding: other key types", () => {
  const edSig = sign(null, DATA, ed.privateKey);
  const rsaSig = sign("sha256", DATA, rsa.privateKey);
  it.each([
    ["Ed25519, 63 bytes", ed25519Key, edSig.subarray(0, 63)],
    ["Ed25519, 65 bytes", ed25519Key, Buffer.concat([edSig, Buffer.from([0])])],
    ["Ed25519, written twice", ed25519Key, Buffer.concat([edSig, edSig])],
    ["RSA, one byte short", rsa2048Key, rsaSig.subarray(1)],
    ["RSA, one byte long (a leading zero)", rsa2048Key, Buffer.concat([Buffer.from([0]), rsaSig])],
    ["RSA, one byte long (trailing)", rsa2048Key, Buffer.concat([rsaSig, Buffer.from([0])])],
    ["an ES256 signature under an Ed25519 key", ed25519Key, p256.sign(DATA)],
  ])("refused: %s", async (_, key, sig) => {
    expect(await wellFormed(key, sig)).toBe(false);
  });

  it("the RSA length is the modulus's, leading zero bytes of n not counted", async () => {
    const jwk = rsa.publicKey.export({ format: "jwk" });
    const padded = cose([
      [1, 3],
      [3, -257],
      [-1, bytes(Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n ?? "", "base64url")]))],
      [-2, bytes(Buffer.from(jwk.e ?? "", "base64url"))],
    ]);
    expect(await wellFormed(padded, rsaSig)).toBe(true);
    expect(await wellFormed(padded, Buffer.concat([Buffer.from([0]), rsaSig]))).toBe(false);
  });

  it("an unknown key type, an unknown curve or a key that does not decode: refused", async () => {
    const sig = p256.sign(DATA);
    const ec2WithCurve = (crv: number) =>
      cose([
        [1, 2],
        [3, -7],
        [-1, crv],
        [-2, new Uint8Array(32)],
        [-3, new Uint8Array(32)],
      ]);
    expect(await wellFormed(ec2WithCurve(99), sig)).toBe(false);
    expect(
      await wellFormed(
        cose([
          [1, 4],
          [3, -7],
        ]),
        sig,
      ),
    ).toBe(false);
    expect(await wellFormed(new Uint8Array([0xff, 0x00]), sig)).toBe(false);
    expect(await wellFormed(new Uint8Array(0), sig)).toBe(false);
  });
});

describe("webauthn attestation object: exactly one CBOR item, its statement a map", () => {
  const object = isoCBOR.encode(
    new Map<string, unknown>([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", new Uint8Array(37).fill(7)],
    ]) as never,
  );
  const ONE_ITEM = "attestationObject is not exactly one CBOR item";
  it("one item passes, also when read from inside a larger buffer (tiny-cbor ignores byteOffset)", async () => {
    expect(await attestationObjectRefusal(object)).toBeUndefined();
    const inside = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), object]).subarray(3);
    expect(await attestationObjectRefusal(inside)).toBeUndefined();
  });
  it("valid non-canonical CBOR passes (it is measured, not re-encoded)", async () => {
    // {"attStmt": {}, "x": 1.0} with 1.0 as a float32: re-encoding writes 1.0 as 0x01, 4 bytes shorter
    const nonCanonical = Buffer.concat([
      Buffer.from([0xa2, 0x67]),
      Buffer.from("attStmt"),
      Buffer.from([0xa0, 0x61, 0x78, 0xfa, 0x3f, 0x80, 0, 0]),
    ]);
    expect(await attestationObjectRefusal(nonCanonical)).toBeUndefined();
  });
  it.each([
    ["a byte appended", Buffer.concat([object, Buffer.from([0])])],
    ["the object written twice", Buffer.concat([object, object])],
    ["cut short", object.subarray(0, object.length - 1)],
    ["empty", new Uint8Array(0)],
  ])("refused: %s", async (_, malformed) => {
    expect(await attestationObjectRefusal(malformed)).toBe(ONE_ITEM);
  });
  it.each([
    ["an empty text", ""],
    ["an empty array", []],
    ["the number 0", 0],
  ])("refused: a statement that is %s, not a map", async (_, attStmt) => {
    const bent = isoCBOR.encode(
      new Map<string, unknown>([
        ["fmt", "none"],
        ["attStmt", attStmt],
      ]) as never,
    );
    expect(await attestationObjectRefusal(bent)).toBe("attStmt is not a map");
  });
});
