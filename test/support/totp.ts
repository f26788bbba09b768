import { generate } from "otplib";

/** The TOTP period (RFC 6238 default, what stepup's `totp()` uses). */
export const STEP_MS = 30_000;

/** The 6-digit code of a base32 secret at a given time (ms since the epoch). */
export function codeFor(secret: string, atMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(atMs / 1000) });
}

/**
 * Waits for the next TOTP step when `now` is within `marginMs` of a step boundary, so a test that
 * enrolls with the previous step's code and verifies with the current one never straddles it.
 */
export async function awayFromStepBoundary(marginMs = 3_000): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}

/** A well-formed 6-digit code that is valid at no step from two before to two after `atMs`. */
export async function wrongCode(secret: string, atMs = Date.now()): Promise<string> {
  const valid = new Set<string>();
  for (let i = -2; i <= 2; i++) valid.add(await codeFor(secret, atMs + i * STEP_MS));
  for (let n = 0; ; n++) {
    const candidate = String((123_456 + n * 7_919) % 1_000_000).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}
