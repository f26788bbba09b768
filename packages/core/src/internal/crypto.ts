import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

/** Secrets derived from the configured `secret`: one purpose, one key (HKDF, RFC 5869). */
interface KeySet {
  id: string;
  encryption: Buffer;
  hashing: Buffer;
}

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "stepup/v1", info, 32));
}

function keySet(secret: string): KeySet {
  const encryption = derive(secret, "encrypt");
  // The key id names the key without revealing it; it lets old ciphertexts find their key after rotation.
  const id = createHash("sha256").update(encryption).digest("base64url").slice(0, 8);
  return { id, encryption, hashing: derive(secret, "hash") };
}

/** AES-256-GCM sealing and keyed hashing with key rotation: the first secret is current. */
export interface Keyring {
  /** Encrypts `plaintext`, bound to `context` (e.g. user and factor id) as associated data. */
  seal(plaintext: string, context: string): string;
  /** Decrypts a sealed value; throws if it was tampered with or sealed for another context. */
  open(sealed: string, context: string): string;
  /** HMAC-SHA-256 of a value under the current hashing key (codes are stored only like this). */
  hash(value: string): string;
  /** The hash of a value under every known key, current first (to look up codes hashed before a rotation). */
  hashAll(value: string): string[];
  /** Constant-time check of a value against a stored hash, under any known key. */
  matches(value: string, hashed: string): boolean;
}

export function createKeyring(secrets: readonly string[]): Keyring {
  const sets = secrets.map(keySet);
  const current = sets[0];
  if (!current) throw new TypeError("stepup: `secret` is required");
  const byId = new Map(sets.map((s) => [s.id, s]));

  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.encryption, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `v1.${current.id}.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(sealed, context) {
      const [version, id, iv, body] = sealed.split(".");
      const keys = id === undefined ? undefined : byId.get(id);
      if (version !== "v1" || !keys || !iv || !body) throw new Error("unknown key or format");
      const data = Buffer.from(body, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", keys.encryption, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString(
        "utf8",
      );
    },
    hash(value) {
      return `${current.id}.${createHmac("sha256", current.hashing).update(value).digest("base64url")}`;
    },
    hashAll(value) {
      return sets.map((k) => `${k.id}.${createHmac("sha256", k.hashing).update(value).digest("base64url")}`);
    },
    matches(value, hashed) {
      const [id, digest] = hashed.split(".");
      const keys = id === undefined ? undefined : byId.get(id);
      if (!keys || !digest) return false;
      const expected = createHmac("sha256", keys.hashing).update(value).digest();
      const actual = Buffer.from(digest, "base64url");
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}

/** A random identifier with `bytes` of entropy (default 128 bits), base64url. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}
