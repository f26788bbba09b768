// Where the demos' signed webhooks go (both demos read the same variables):
//   WEBHOOK_URL unset      -> no webhooks
//   WEBHOOK_URL set        -> every stepup event, and the transfers' track events, POSTed there
//                             signed (Standard Webhooks); an http(s) URL, else the demo stops
//   WEBHOOK_SECRET         required with WEBHOOK_URL: a whsec_ secret, or several comma-separated
//                             while rotating (each delivery is signed with every one)
//   WEBHOOK_RETRY_SECONDS  demo/tests only: seconds before each retry, comma-separated (default
//                             stepup's Standard Webhooks schedule, 5 s to 10 h)
// A value that makes no sense stops the demo at start-up with an Error naming the variable. Neither
// the secret nor the URL's path or query is ever printed (they may carry a receiver's token).

import type { WebhookOptions } from "@stepup/core";

type Env = Readonly<Record<string, string | undefined>>;

/** The demo's webhook settings, validated. */
export interface DemoWebhooks {
  /** The `webhooks` option of `createStepUp` / `stepUp`; undefined without WEBHOOK_URL. */
  options: WebhookOptions | undefined;
  /** What the start-up output says about them (one line each; the URL's origin only, no secret). */
  notes: string[];
}

const SECRET_HINT =
  "make one with `node -e \"console.log(require('@stepup/core').generateWebhookSecret())\"`";

/** Hosts a plain `http:` URL may point to without `allowHttp` (stepup's own rule). */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** `whsec_` and 24 to 64 bytes of base64: what stepup accepts as a signing secret. */
function isWebhookSecret(value: string): boolean {
  if (!value.startsWith("whsec_")) return false;
  const b64 = value.slice("whsec_".length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, "base64").length;
  return bytes >= 24 && bytes <= 64;
}

const ordinal = (n: number) => `${n}${n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"}`;

function webhookUrl(raw: string): URL {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  // Never echo the value: a misplaced secret or a receiver's token must not reach the logs.
  if (!url) throw new Error("demo: WEBHOOK_URL must be an http:// or https:// URL (it is not a URL)");
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(
      `demo: WEBHOOK_URL must be an http:// or https:// URL (got ${JSON.stringify(url.protocol)})`,
    );
  if (url.username || url.password)
    throw new Error(
      "demo: WEBHOOK_URL must not carry a user name or password (deliveries are signed with WEBHOOK_SECRET)",
    );
  return url;
}

function webhookSecrets(raw: string | undefined): string[] {
  const secrets = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (secrets.length === 0)
    throw new Error(
      `demo: WEBHOOK_SECRET is required with WEBHOOK_URL: a whsec_ secret, or several comma-separated while rotating (${SECRET_HINT})`,
    );
  const bad = secrets.findIndex((s) => !isWebhookSecret(s));
  if (bad !== -1)
    throw new Error(
      `demo: WEBHOOK_SECRET must be whsec_ and 24 to 64 bytes of base64, comma-separated when several; the ${ordinal(bad + 1)} of ${secrets.length} is not (${SECRET_HINT})`,
    );
  return secrets;
}

function retrySchedule(raw: string | undefined): number[] | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const parts = raw.split(",").map((s) => s.trim());
  const seconds = parts.map((s) => (/^\d{1,6}(\.\d{1,3})?$/.test(s) ? Number(s) : Number.NaN));
  if (seconds.length > 20 || !seconds.every((s) => s > 0 && s <= 7 * 86_400))
    throw new Error(
      `demo: WEBHOOK_RETRY_SECONDS must be up to 20 comma-separated delays in seconds, each above 0 and at most 604800 (got "${raw.slice(0, 80)}")`,
    );
  return seconds;
}

/**
 * The demo's webhooks from WEBHOOK_URL, WEBHOOK_SECRET and WEBHOOK_RETRY_SECONDS (see the top of
 * this file). An empty variable counts as unset.
 * @throws Error naming the variable whose value is not usable
 */
export function webhooksFromEnv(env: Env = process.env): DemoWebhooks {
  const raw = env.WEBHOOK_URL?.trim() ?? "";
  if (raw === "") {
    const notes = [
      env.WEBHOOK_SECRET?.trim()
        ? "webhooks: off (WEBHOOK_SECRET is set but WEBHOOK_URL is not)"
        : "webhooks: off (set WEBHOOK_URL and WEBHOOK_SECRET to POST signed events)",
    ];
    return { options: undefined, notes };
  }
  const url = webhookUrl(raw);
  const secrets = webhookSecrets(env.WEBHOOK_SECRET);
  const schedule = retrySchedule(env.WEBHOOK_RETRY_SECONDS);
  const plainHttp = url.protocol === "http:" && !LOOPBACK.test(url.hostname);
  const notes = [
    `webhooks: every event, and /transfer's track events, POSTed signed (Standard Webhooks, ${secrets.length} secret${secrets.length === 1 ? "" : "s"}) to ${url.origin}`,
  ];
  if (plainHttp)
    notes.push(
      `webhooks: ${url.origin} is plain http to a host that is not loopback: allowed in the demo (allowHttp), but events and signatures travel unencrypted`,
    );
  if (schedule) notes.push(`webhooks: retries after ${schedule.join(", ")} s (WEBHOOK_RETRY_SECONDS)`);
  return {
    options: {
      endpoints: [{ url: url.href, secret: secrets, ...(plainHttp ? { allowHttp: true } : {}) }],
      ...(schedule ? { retrySchedule: schedule } : {}),
    },
    notes,
  };
}
