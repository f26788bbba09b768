import { StepUpError } from "../../errors.js";
import { clientGroup } from "../../internal/client-address.js";
import { parseRecord } from "../../internal/records.js";
import type { AssuranceLevel, Challenge, FactorRecord } from "../../types.js";
import type { CodeSent, FactorContext, FactorPlugin, FactorUi } from "../factor.js";
import { readCode } from "../totp.js";
import { CODE_DIGITS, codeMatches, issueCode, reissueCode } from "./code.js";
import type { CodeMessageInput, CodePurpose } from "./messages.js";
import { type ResolvedSendLimits, type SendBucket, spendSend } from "./send-limits.js";

/** Options both code factors share. */
export interface CodeFactorOptions {
  /** How long a code works, in seconds (whole, 60 to 600). @default 300 */
  codeTtl?: number;
  /** How long a send may take, in seconds (1 to 60), before it counts as failed (503). @default 10 */
  sendTimeout?: number;
}

/** What makes a channel (email, SMS): where codes go and how. */
export interface ChannelSpec {
  type: string;
  ui: FactorUi;
  amr: readonly string[];
  codeTtlSeconds: number;
  sendTimeoutMs: number;
  limits: ResolvedSendLimits;
  /** The destination of a new enrollment from untrusted input. @throws StepUpError INVALID_INPUT */
  readDestination(ctx: FactorContext, input: unknown): string;
  mask(destination: string): string;
  /** More shared windows for a destination (SMS: its country code). */
  extraBuckets?(destination: string): { key: string; limit: { max: number; windowSeconds: number } }[];
  /** Sends the code. Throwing (or taking longer than `sendTimeoutMs`) is a failed delivery. */
  deliver(destination: string, message: CodeMessageInput): Promise<void>;
  /** Logged when a delivery fails (never the code). */
  label: string;
}

/** Seconds between two sends of one challenge's code, and sends per challenge. */
export const RESEND_AFTER_SECONDS = 30;
export const MAX_SENDS = 3;

/** A code in flight, kept in the user's scope: the seed, never the code. */
interface CodeRecord {
  seed: string;
  keyId: string;
  expiresAtMs: number;
  sentAtMs: number;
}

/** A pending enrollment's state (kept by the engine with the enrollment). */
interface PendingCode extends CodeRecord {
  /** The destination, sealed: an address or number is personal data. */
  destination: string;
  masked: string;
}

function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const deliveryFailed = (cause: unknown) =>
  new StepUpError(
    "DELIVERY_FAILED",
    "We couldn't send the code. Try again in a moment, or use another method.",
    {},
    { cause },
  );

/**
 * One-time codes sent to the user (the engine of `email()` and `sms()`). The rules, each with a
 * test named after its threat: 6 digits from a CSPRNG seed; valid `codeTtl` (at most 10 minutes);
 * bound to one challenge (or enrollment) and factor; single use (the record is taken atomically:
 * of concurrent right guesses, one wins); counted in the engine's guessing limits like any code; a
 * resend within validity sends the same code (its expiry does not move), at least 30 s apart and at
 * most 3 per challenge; every send counts against the client address, the user and the
 * destination; a failed or slow delivery leaves no code valid.
 */
export function createCodeFactor(spec: ChannelSpec): FactorPlugin {
  const binding = (ctx: FactorContext, scope: string, factorId: string) =>
    `${spec.type}:${ctx.user.id}:${scope}:${factorId}`;
  const recordKey = (challenge: Challenge, factor: FactorRecord) => `code:${challenge.id}:${factor.id}`;

  function destinationOf(ctx: FactorContext, factorId: string, sealed: unknown): string {
    if (typeof sealed !== "string") throw new Error(`${spec.type} factor without a destination`);
    return ctx.keyring.open(sealed, `${ctx.user.id}:${factorId}:${spec.type}`);
  }

  /** Spends a send everywhere it counts; the address first (see `spendSend`). */
  async function spend(ctx: FactorContext, destination: string): Promise<void> {
    const { limits } = spec;
    const dest = ctx.keyring.hash(`${spec.type}:${destination}`); // no personal data in key names
    const buckets: SendBucket[] = [];
    if (ctx.ip)
      buckets.push({ store: ctx.shared, key: `sends-ip:${clientGroup(ctx.ip)}`, limit: limits.perIp });
    buckets.push({ store: ctx.store, key: "sends-user", limit: limits.perUser });
    buckets.push({ store: ctx.shared, key: `sends-to:${dest}`, limit: limits.perDestination });
    for (const extra of spec.extraBuckets?.(destination) ?? [])
      buckets.push({ store: ctx.shared, key: extra.key, limit: extra.limit });
    await spendSend(buckets);
  }

  async function deliver(ctx: FactorContext, destination: string, message: CodeMessageInput) {
    try {
      await deadline(spec.deliver(destination, message), spec.sendTimeoutMs);
    } catch (error) {
      // The error may quote the message: log its kind only, never the text (it holds the code).
      ctx.logger.error(`${spec.label}: delivery failed`, {
        error: error instanceof Error ? error.name : typeof error,
      });
      throw deliveryFailed(error);
    }
  }

  const message = (ctx: FactorContext, code: string, purpose: CodePurpose, expiresAtMs: number) => ({
    appName: ctx.appName,
    code,
    purpose,
    expiresInMinutes: Math.max(1, Math.ceil((expiresAtMs - ctx.nowMs) / 60_000)),
    expiresAt: new Date(expiresAtMs),
  });

  function fresh(ctx: FactorContext, scope: string, factorId: string, notAfterMs = Infinity) {
    const seed = Buffer.from(ctx.randomBytes(16)).toString("base64url");
    const { code, keyId } = issueCode(ctx.keyring, binding(ctx, scope, factorId), seed);
    const expiresAtMs = Math.min(ctx.nowMs + spec.codeTtlSeconds * 1000, notAfterMs);
    return { code, record: { seed, keyId, expiresAtMs, sentAtMs: ctx.nowMs } satisfies CodeRecord };
  }

  function purposeOf(challenge: Challenge): CodePurpose {
    return {
      kind: "step-up",
      resource: challenge.resource,
      action: challenge.action,
      ...(challenge.label === undefined ? {} : { label: challenge.label }),
      ...(challenge.description === undefined ? {} : { description: challenge.description }),
    };
  }

  const sentView = (masked: string, r: CodeRecord) => ({
    sent: true as const,
    destination: masked,
    expiresAt: new Date(r.expiresAtMs).toISOString(),
    resendAfter: new Date(r.sentAtMs + RESEND_AFTER_SECONDS * 1000).toISOString(),
  });

  const ttl = (ctx: FactorContext, untilMs: number) => Math.max(1, Math.ceil((untilMs - ctx.nowMs) / 1000));

  return Object.freeze({
    type: spec.type,
    level: "mfa" as AssuranceLevel,
    amr: spec.amr,
    ui: spec.ui,
    describe: (factor) => (typeof factor.data.masked === "string" ? { destination: factor.data.masked } : {}),

    async enrollStart(ctx, factorId, input) {
      const destination = spec.readDestination(ctx, input);
      const masked = spec.mask(destination);
      // One enrollment send per destination per 30 s for this user, atomically.
      const cooldown = `enroll-cool:${ctx.keyring.hash(destination)}`;
      if (!(await ctx.store.setIfAbsent(cooldown, "1", RESEND_AFTER_SECONDS))) {
        throw new StepUpError(
          "RATE_LIMITED",
          "A code was just sent there. Wait a moment before asking again.",
          {
            retryAfter: RESEND_AFTER_SECONDS,
          },
        );
      }
      await spend(ctx, destination);
      const { code, record } = fresh(ctx, "enroll", factorId);
      try {
        await deliver(ctx, destination, message(ctx, code, { kind: "enroll" }, record.expiresAtMs));
      } catch (error) {
        await ctx.store.delete([cooldown]); // nothing was sent: trying again at once is fine
        throw error;
      }
      const pending: PendingCode = {
        ...record,
        destination: ctx.keyring.seal(destination, `${ctx.user.id}:${factorId}:${spec.type}`),
        masked,
      };
      return {
        pending: { ...pending },
        response: { destination: masked, expiresAt: new Date(record.expiresAtMs).toISOString() },
        name: masked,
      };
    },

    async enrollResume(_ctx, _factorId, pending) {
      const p = pending as unknown as PendingCode;
      return { destination: p.masked, expiresAt: new Date(p.expiresAtMs).toISOString() };
    },

    async enrollConfirm(ctx, factorId, pending, input) {
      const code = readCode(input, CODE_DIGITS);
      const p = pending as unknown as PendingCode;
      if (p.expiresAtMs <= ctx.nowMs) return null;
      if (!codeMatches(ctx.keyring, binding(ctx, "enroll", factorId), p.seed, p.keyId, code)) return null;
      // The engine takes the pending record atomically: the code cannot confirm twice.
      return { data: { destination: p.destination, masked: p.masked }, name: p.masked };
    },

    async challengeStart(ctx, factor, challenge) {
      const key = recordKey(challenge, factor);
      const slot = `resend:${challenge.id}:${factor.id}`;
      // At least 30 s between sends, atomically: of concurrent sends, one gets the slot.
      if (!(await ctx.store.setIfAbsent(slot, "1", RESEND_AFTER_SECONDS))) {
        throw new StepUpError(
          "RATE_LIMITED",
          "A code was just sent. Wait a moment before asking for another.",
          {
            retryAfter: RESEND_AFTER_SECONDS,
          },
        );
      }
      const untilChallengeEnds = ttl(ctx, challenge.expiresAtMs);
      const sends = await ctx.store.increment(`sends:${challenge.id}:${factor.id}`, untilChallengeEnds);
      if (sends.count > MAX_SENDS) {
        throw new StepUpError("RATE_LIMITED", "No more codes can be sent for this request. Start again.");
      }
      const destination = destinationOf(ctx, factor.id, factor.data.destination);
      await spend(ctx, destination);
      const scope = challenge.id;
      const kept = parseRecord<CodeRecord>(await ctx.store.get(key));
      const again =
        kept && kept.expiresAtMs > ctx.nowMs
          ? reissueCode(ctx.keyring, binding(ctx, scope, factor.id), kept.seed, kept.keyId)
          : undefined;
      // A resend within validity sends the same code; its expiry does not move.
      const { code, record } =
        kept && again !== undefined
          ? { code: again, record: { ...kept, sentAtMs: ctx.nowMs } }
          : fresh(ctx, scope, factor.id, challenge.expiresAtMs);
      await ctx.store.set(key, JSON.stringify(record), ttl(ctx, record.expiresAtMs));
      try {
        await deliver(ctx, destination, message(ctx, code, purposeOf(challenge), record.expiresAtMs));
      } catch (error) {
        // A failed (or timed-out, maybe still travelling) message leaves no code valid.
        await ctx.store.delete([key, slot]);
        throw error;
      }
      return sentView(spec.mask(destination), record);
    },

    async challengeStatus(ctx, factor, challenge): Promise<CodeSent | null> {
      const kept = parseRecord<CodeRecord>(await ctx.store.get(recordKey(challenge, factor)));
      if (!kept || kept.expiresAtMs <= ctx.nowMs) return null;
      return {
        sent: true,
        destination: typeof factor.data.masked === "string" ? factor.data.masked : "",
        expiresAtMs: kept.expiresAtMs,
        resendAfterMs: kept.sentAtMs + RESEND_AFTER_SECONDS * 1000,
      };
    },

    checkInput(input) {
      readCode(input, CODE_DIGITS);
    },

    async verify(ctx, factor, challenge, input) {
      const code = readCode(input, CODE_DIGITS);
      const key = recordKey(challenge, factor);
      const kept = parseRecord<CodeRecord>(await ctx.store.get(key));
      if (!kept || kept.expiresAtMs <= ctx.nowMs) return { ok: false, reason: "INVALID_CODE" };
      if (!codeMatches(ctx.keyring, binding(ctx, challenge.id, factor.id), kept.seed, kept.keyId, code))
        return { ok: false, reason: "INVALID_CODE" };
      // Single use: of concurrent right answers, exactly one takes the record.
      if ((await ctx.store.take(key)) === null) return { ok: false, reason: "REPLAYED" };
      return { ok: true };
    },
  } satisfies FactorPlugin);
}
