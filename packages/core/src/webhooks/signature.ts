import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

/** A new webhook signing secret (`whsec_` and 32 random bytes in base64), for an endpoint's `secret`. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

/** The key inside a `whsec_` secret; undefined when it is not one (24 to 64 bytes). */
export function decodeWebhookSecret(secret: unknown): Uint8Array | undefined {
  if (typeof secret !== "string" || !secret.startsWith(PREFIX)) return undefined;
  const b64 = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, "base64");
  return key.length >= 24 && key.length <= 64 ? new Uint8Array(key) : undefined;
}

/**
 * The Standard Webhooks headers for one delivery attempt: `webhook-signature` is
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret, space-separated.
 */
export function signWebhook(
  id: string,
  timestampSeconds: number,
  body: string,
  secrets: readonly Uint8Array[],
): Record<string, string> {
  const content = `${id}.${timestampSeconds}.${body}`;
  const signatures = secrets.map((key) => `v1,${createHmac("sha256", key).update(content).digest("base64")}`);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
