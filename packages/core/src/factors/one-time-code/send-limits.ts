import type { LimitOptions } from "../../config.js";
import { StepUpError } from "../../errors.js";
import type { FactorStore } from "../factor.js";

/** Windows that stop mail bombing and SMS pumping: each send counts once in every one of them. */
export interface SendLimitOptions {
  /** Codes sent to one user (all their addresses and numbers). @default { max: 10, windowSeconds: 3600 } */
  perUser?: LimitOptions;
  /** Codes sent to one address or number, whoever asks. @default { max: 10, windowSeconds: 3600 } */
  perDestination?: LimitOptions;
  /** Codes sent on behalf of one client address (IPv6 by /64). @default { max: 20, windowSeconds: 3600 } */
  perIp?: LimitOptions;
}

export type ResolvedSendLimits = Required<SendLimitOptions>;

/** One counting window to spend a send in. */
export interface SendBucket {
  store: FactorStore;
  key: string;
  limit: LimitOptions;
}

function window(name: string, value: LimitOptions | undefined, fallback: LimitOptions): LimitOptions {
  const limit = value ?? fallback;
  if (
    !Number.isInteger(limit.max) ||
    limit.max < 1 ||
    limit.max > 10_000 ||
    !Number.isInteger(limit.windowSeconds) ||
    limit.windowSeconds < 1 ||
    limit.windowSeconds > 86_400
  ) {
    throw new TypeError(
      `${name}: \`max\` must be an integer from 1 to 10000 and \`windowSeconds\` from 1 to 86400`,
    );
  }
  return Object.freeze({ max: limit.max, windowSeconds: limit.windowSeconds });
}

/** Validates the send limits once, at construction, naming a bad option. */
export function resolveSendLimits(plugin: string, input: SendLimitOptions = {}): ResolvedSendLimits {
  return Object.freeze({
    perUser: window(`${plugin}: limits.perUser`, input.perUser, { max: 10, windowSeconds: 3600 }),
    perDestination: window(`${plugin}: limits.perDestination`, input.perDestination, {
      max: 10,
      windowSeconds: 3600,
    }),
    perIp: window(`${plugin}: limits.perIp`, input.perIp, { max: 20, windowSeconds: 3600 }),
  });
}

/**
 * Spends one send in each bucket, in order, stopping at the first that is full. The client address
 * comes first: an address over its limit is refused without spending the victim's user or
 * destination budget (an attacker must not lock a user out of their own codes). Counted
 * atomically, so N concurrent sends count N times.
 * @throws StepUpError RATE_LIMITED with `retryAfter` (seconds until that window resets)
 */
export async function spendSend(buckets: readonly SendBucket[]): Promise<void> {
  for (const { store, key, limit } of buckets) {
    const n = await store.increment(key, limit.windowSeconds);
    if (n.count > limit.max) {
      throw new StepUpError("RATE_LIMITED", "Too many codes were sent. Try again later.", {
        retryAfter: Math.max(1, n.ttlSeconds),
      });
    }
  }
}
