/** Options of the WebAuthn factor (passkeys and security keys). */
export interface WebAuthnOptions {
  /**
   * The relying party id: a registrable suffix of the host of every origin (`example.com` for
   * `https://app.example.com`; `localhost` for `http://localhost:3000`). Credentials are bound to it:
   * changing it later orphans every registered credential.
   */
  rpID: string;
  /**
   * Exact origins the ceremonies may come from (`https://app.example.com`, `http://localhost:3000`):
   * scheme, host and port, no path. `http:` only for `localhost`.
   */
  origins: readonly string[];
  /** Name shown by the browser and authenticator. @default the `appName` of the step-up config */
  rpName?: string;
  /** How long the browser waits for the user, in milliseconds (10 000 to 600 000). @default 120_000 */
  timeoutMs?: number;
  /**
   * Attestation conveyance. Only `"none"`: stepup does not judge authenticator models, so asking
   * for attestation would only cost users a privacy prompt. @default "none"
   */
  attestation?: "none";
}

/** Options validated once, at construction. */
export interface ResolvedWebAuthnOptions {
  readonly rpID: string;
  readonly origins: readonly string[];
  readonly rpName: string | undefined;
  readonly timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const IPV4 = /^[0-9.]+$/;

function fail(option: string, message: string): never {
  throw new TypeError(`webauthn: \`${option}\` ${message}`);
}

const isLocalhost = (host: string) => host === "localhost" || host.endsWith(".localhost");

/** The host of an exact origin, or a TypeError naming `origins`. */
function hostOf(origin: unknown, rpID: string): string {
  if (typeof origin !== "string") fail("origins", "must hold strings");
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    fail("origins", `holds "${origin}", which is not a URL`);
  }
  // `url.origin` drops paths, a trailing slash and default ports: an exact origin survives unchanged,
  // and the browser reports exactly this form in clientDataJSON.
  if (url.origin !== origin) fail("origins", `holds "${origin}"; write the exact origin "${url.origin}"`);
  const secure = url.protocol === "https:" || (url.protocol === "http:" && isLocalhost(url.hostname));
  if (!secure) fail("origins", `holds "${origin}": WebAuthn needs https (http only for localhost)`);
  const host = url.hostname;
  // WebAuthn section 5.1.3: the RP ID must be the origin's effective domain or a registrable suffix of it.
  if (host !== rpID && !host.endsWith(`.${rpID}`)) {
    fail("rpID", `"${rpID}" is not the host or a parent domain of origin "${origin}"`);
  }
  return host;
}

/**
 * Validates the options once into a frozen object.
 * @throws TypeError naming the option (`rpID`, `origins`, `rpName`, `timeoutMs`, `attestation`).
 */
export function resolveWebAuthnOptions(options: WebAuthnOptions): ResolvedWebAuthnOptions {
  if (typeof options !== "object" || options === null) fail("options", "must be an object");
  const { rpID, origins, rpName, timeoutMs = DEFAULT_TIMEOUT_MS, attestation = "none" } = options;
  if (typeof rpID !== "string" || !DOMAIN.test(rpID) || IPV4.test(rpID)) {
    fail(
      "rpID",
      "must be a lowercase domain name such as `example.com` or `localhost` (no scheme, port or IP)",
    );
  }
  if (!Array.isArray(origins) || origins.length === 0) fail("origins", "must list at least one origin");
  for (const origin of origins) hostOf(origin, rpID);
  if (rpName !== undefined && (typeof rpName !== "string" || rpName.trim() === "" || rpName.length > 64)) {
    fail("rpName", "must be 1-64 characters");
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 10_000 || timeoutMs > 600_000) {
    fail("timeoutMs", "must be an integer from 10000 to 600000 (milliseconds)");
  }
  if (attestation !== "none") fail("attestation", 'can only be "none"');
  return Object.freeze({
    rpID,
    origins: Object.freeze([...new Set(origins)]),
    rpName,
    timeoutMs,
  });
}
