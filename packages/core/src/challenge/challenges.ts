import type { Sessions } from "../assurance/sessions.js";
import type { DeviceCookie, Devices } from "../devices/devices.js";
import { StepUpError, userLocked } from "../errors.js";
import type { CodeSent } from "../factors/factor.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseChallenge } from "../internal/records.js";
import { answeringTypes, type ChallengeOffer, enrolledOf } from "../policy/decide.js";
import type { Assurance, Challenge, FactorRecord, Rule, StepUpUser } from "../types.js";
import type { AttemptLimiter } from "./attempt-limiter.js";
import { describeTransaction } from "./description.js";

/** Where to go after success, what to re-submit, and what is being approved. */
export interface ChallengeTarget {
  returnTo?: string;
  method?: string;
  form?: readonly (readonly [string, string])[];
  txn?: string;
  /** What is being approved, in words (at most 200 characters). */
  description?: string;
}

/** What a client needs to answer a challenge. */
export interface OpenedChallenge {
  challenge: Challenge;
  /** Enrolled factors this challenge accepts and that can take a guess now, primary first. */
  factors: FactorRecord[];
  /** The user is locked after too many failures: only a recovery path is offered. */
  userLocked: boolean;
  /**
   * Codes already sent for this challenge and still valid, by factor id (send-first factors; filled
   * by `show`, so a page reloaded after "Send code" shows the code form).
   */
  sent?: Readonly<Record<string, CodeSent>>;
}

/** A proof to check: which factor, and its input (e.g. `{ code }`). */
export interface VerifyInput {
  factor: unknown;
  factorId?: unknown;
  [field: string]: unknown;
}

export interface VerifyResult {
  /** The rotated step-up session id: the cookie must be re-issued with it. */
  sid: string;
  assurance: Assurance;
  challenge: Challenge;
  /** The device cookie to set: this browser is now a seen device (trusted, with `rememberDevice: true`). */
  device: DeviceCookie;
}

/** What the HTTP layer knows of the browser a proof came from. */
export interface VerifyClient {
  /** The client address (per-address limits, the `newIp` memory). */
  ip?: string | undefined;
  /** The device cookie it sent, if any. */
  device?: string | undefined;
  /** Its User-Agent (a trusted device's readable name). */
  userAgent?: string | undefined;
}

/** Open challenges per user: opening more drops the oldest, so challenges cannot fill the store. */
export const MAX_OPEN_CHALLENGES = 20;
/** A form kept for re-submission, urlencoded. */
export const MAX_FORM_BYTES = 16 * 1024;
const ID = /^[A-Za-z0-9_-]{16,64}$/;

const notFound = () =>
  new StepUpError("CHALLENGE_NOT_FOUND", "This verification request does not exist or has expired.");

/** What is stored: the challenge with its form sealed. */
type StoredChallenge = Omit<Challenge, "form"> & { sealedForm?: string };

export function createChallenges(
  ctx: EngineContext,
  sessions: Sessions,
  limiter: AttemptLimiter,
  devices: Devices,
) {
  const { store, config } = ctx;
  const formContext = (c: Pick<Challenge, "uid" | "id">) => `${c.uid}:${c.id}:form`;

  function seal(challenge: Challenge): StoredChallenge {
    const { form, ...rest } = challenge;
    if (!form) return rest;
    return { ...rest, sealedForm: ctx.keyring.seal(JSON.stringify(form), formContext(challenge)) };
  }

  function unseal(stored: StoredChallenge): Challenge {
    const { sealedForm, ...rest } = stored;
    if (sealedForm === undefined) return rest;
    try {
      const form = JSON.parse(ctx.keyring.open(sealedForm, formContext(stored))) as [string, string][];
      return { ...rest, form };
    } catch {
      return rest; // a form sealed under a retired secret: the step-up still works, the form is lost
    }
  }

  /** A challenge; with `sid`, one whose step-up session has not been signed out (same round trip). */
  async function load(uid: string, id: unknown, sid?: string): Promise<Challenge> {
    if (typeof id !== "string" || !ID.test(id)) throw notFound();
    const [raw, ended] = await store.getMany(
      uid,
      sid === undefined ? [keys.challenge(id)] : [keys.challenge(id), keys.sessionEnded(sid)],
    );
    const stored = parseChallenge(raw, uid) as StoredChallenge | undefined;
    // A logout ends the challenges opened in that session: no code is checked for them any more.
    if (!stored || stored.expiresAtMs <= ctx.now() || (ended ?? null) !== null) throw notFound();
    return unseal(stored);
  }

  function checkTarget(target: ChallengeTarget): void {
    if (
      target.form &&
      new URLSearchParams(target.form as [string, string][]).toString().length > MAX_FORM_BYTES
    ) {
      throw new StepUpError(
        "PAYLOAD_TOO_LARGE",
        `A form kept for a step-up must be at most ${MAX_FORM_BYTES} bytes.`,
      );
    }
    if (target.description !== undefined) describeTransaction(target.description);
  }

  function pickFactor(challenge: Challenge, factors: FactorRecord[], input: VerifyInput): FactorRecord {
    if (typeof input.factor !== "string" || !config.factors.has(input.factor)) {
      throw new StepUpError("INVALID_INPUT", "`factor` must name a configured factor.", { field: "factor" });
    }
    if (!challenge.factors.includes(input.factor)) {
      throw new StepUpError("FACTOR_NOT_ALLOWED", "This factor cannot be used for this action.");
    }
    if (input.factorId !== undefined && typeof input.factorId !== "string") {
      throw new StepUpError("INVALID_INPUT", "`factorId` must be a string.", { field: "factorId" });
    }
    const factor = factors.find(
      (f) => f.type === input.factor && (input.factorId === undefined || f.id === input.factorId),
    );
    if (!factor) throw new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");
    return factor;
  }

  async function loadOwn(user: StepUpUser, sid: string, id: unknown): Promise<Challenge> {
    const challenge = await load(user.id, id, sid);
    if (challenge.sid !== sid)
      throw new StepUpError("CHALLENGE_SESSION_MISMATCH", "This verification belongs to another session.");
    return challenge;
  }

  /** The factors a challenge offers now: enrolled, answering its rule, not locked. */
  async function offered(uid: string, challenge: Pick<Challenge, "factors">): Promise<ChallengeOffer> {
    const all = await enrolledOf(ctx, uid, challenge.factors);
    const state = await limiter.state(uid, all);
    return { factors: state.usable, userLocked: state.userLocked };
  }

  return {
    load,

    /** The challenge and the factors it offers now, for a page or client showing it again. */
    async show(user: StepUpUser, sid: string, id: unknown): Promise<OpenedChallenge> {
      const challenge = await loadOwn(user, sid, id);
      const offer = await offered(user.id, challenge);
      const sent: Record<string, CodeSent> = {};
      await Promise.all(
        offer.factors.map(async (factor) => {
          const plugin = config.factors.get(factor.type);
          if (!plugin?.challengeStatus) return;
          const status = await plugin.challengeStatus(
            ctx.factorContext(user, factor.type),
            factor,
            challenge,
          );
          if (status) sent[factor.id] = status;
        }),
      );
      return { challenge, ...offer, ...(Object.keys(sent).length > 0 ? { sent } : {}) };
    },

    /**
     * Opens a single-use challenge bound to the user and their step-up session. A user keeps at
     * most 20 open: the oldest is dropped.
     * @throws StepUpError PAYLOAD_TOO_LARGE for a form over 16 KiB
     */
    async open(
      user: StepUpUser,
      sid: string,
      rule: Rule,
      target: ChallengeTarget = {},
      offer?: ChallengeOffer,
    ): Promise<OpenedChallenge> {
      checkTarget(target);
      const now = ctx.now();
      const challenge: Challenge = {
        id: ctx.newId(),
        uid: user.id,
        sid,
        resource: rule.resource,
        action: rule.action,
        maxAge: rule.maxAge,
        level: rule.level,
        // Only factors strong enough for the rule's level (and able to verify the user, when it
        // demands that) may answer it.
        factors: answeringTypes(ctx, rule),
        userVerification: rule.userVerification,
        ...(rule.label === undefined ? {} : { label: rule.label }),
        ...target,
        createdAtMs: now,
        expiresAtMs: now + config.challengeTtl * 1000,
      };
      await store.set(
        user.id,
        keys.challenge(challenge.id),
        JSON.stringify(seal(challenge)),
        config.challengeTtl,
      );
      const dropped = await store.append(
        user.id,
        keys.challenges,
        challenge.id,
        MAX_OPEN_CHALLENGES,
        config.challengeTtl,
      );
      if (dropped.length > 0) {
        await store.delete(
          user.id,
          dropped.flatMap((id) => [keys.challenge(id), keys.attemptsChallenge(id)]),
        );
      }
      await ctx.emit({
        type: "challenge.opened",
        userId: user.id,
        challengeId: challenge.id,
        resource: rule.resource,
        action: rule.action,
      });
      // The guard already read what the user can answer with (`decide`): not twice.
      return { challenge, ...(offer ?? (await offered(user.id, challenge))) };
    },

    /**
     * Runs a factor's optional start step (send a code, WebAuthn options).
     * @throws StepUpError CHALLENGE_NOT_FOUND, FACTOR_NOT_ALLOWED, FACTOR_NOT_FOUND, and what the
     *   plugin throws (RATE_LIMITED, DELIVERY_FAILED for a code that could not be sent)
     */
    async start(
      user: StepUpUser,
      sid: string,
      id: unknown,
      input: VerifyInput,
      ip?: string,
    ): Promise<Record<string, unknown>> {
      const challenge = await loadOwn(user, sid, id);
      const factor = pickFactor(challenge, (await offered(user.id, challenge)).factors, input);
      const plugin = config.factors.get(factor.type);
      if (!plugin?.challengeStart) return {};
      return plugin.challengeStart(ctx.factorContext(user, factor.type, ip), factor, challenge);
    },

    /**
     * Checks a proof. Every attempt is counted before it is evaluated (see the attempt limiter), and
     * the challenge is consumed atomically on success. `client` is an address (string) or what the
     * HTTP layer knows of the browser; `input.rememberDevice: true` trusts it for the policy's days.
     * @throws StepUpError CHALLENGE_NOT_FOUND, CHALLENGE_SESSION_MISMATCH, FACTOR_NOT_ALLOWED,
     *   FACTOR_NOT_FOUND, INVALID_INPUT, INVALID_CODE, TOO_MANY_ATTEMPTS, CHALLENGE_EXHAUSTED,
     *   USER_LOCKED, STORE_UNAVAILABLE
     */
    async verify(
      user: StepUpUser,
      sid: string,
      id: unknown,
      input: VerifyInput,
      client?: string | VerifyClient,
    ): Promise<VerifyResult> {
      const {
        ip,
        device: deviceCookie,
        userAgent,
      } = typeof client === "string" ? { ip: client } : (client ?? {});
      if (input.rememberDevice !== undefined && typeof input.rememberDevice !== "boolean") {
        throw new StepUpError("INVALID_INPUT", "`rememberDevice` must be a boolean.", {
          field: "rememberDevice",
        });
      }
      const challenge = await loadOwn(user, sid, id);
      const enrolled = await enrolledOf(ctx, user.id, challenge.factors);
      const factor = pickFactor(challenge, enrolled, input);
      const plugin = config.factors.get(factor.type);
      if (!plugin) throw new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");
      const base = {
        userId: user.id,
        factor: factor.type,
        factorId: factor.id,
        challengeId: challenge.id,
        ip,
      };

      plugin.checkInput?.(input);
      const budget = await limiter.spend(
        user.id,
        challenge.id,
        { id: factor.id, recovery: plugin.recovery === true },
        ip,
      );
      if (!budget.allowed) {
        // A spent challenge is dead: drop it, so only a new one (with a fresh budget) can go on.
        if (budget.error.code === "CHALLENGE_EXHAUSTED")
          await store.take(user.id, keys.challenge(challenge.id));
        await ctx.emit({ ...base, type: "verification.failed", reason: budget.error.code });
        throw budget.error;
      }
      const outcome = await plugin.verify(ctx.factorContext(user, factor.type, ip), factor, challenge, input);
      if (!outcome.ok) {
        await ctx.emit({ ...base, type: "verification.failed", reason: outcome.reason });
        if (await limiter.failed(user.id, budget.failures)) {
          await ctx.emit({
            type: "lockout",
            userId: user.id,
            ...(ip ? { ip } : {}),
            reason: "CONSECUTIVE_FAILURES",
          });
          ctx.notify(user, "lockout", ip ? { ip } : {});
          throw userLocked();
        }
        throw new StepUpError("INVALID_CODE", "That code is not valid.", {
          attemptsRemaining: budget.remaining,
        });
      }
      // Single use: of concurrent successful proofs, exactly one takes the challenge.
      if ((await store.take(user.id, keys.challenge(challenge.id))) === null) {
        await ctx.emit({ ...base, type: "verification.failed", reason: "CHALLENGE_NOT_FOUND" });
        throw notFound();
      }
      const now = ctx.now();
      const assurance: Assurance = {
        atMs: now,
        factor: factor.type,
        factorId: factor.id,
        level: plugin.level,
        amr: plugin.amr,
        userVerified: outcome.userVerified === true,
        resource: challenge.resource,
        action: challenge.action,
        ...(challenge.txn === undefined ? {} : { txn: challenge.txn }),
      };
      const newSid = await sessions.grant(user.id, sid, assurance);
      const updated = { ...factor, ...(outcome.data ? { data: outcome.data } : {}), lastUsedAtMs: now };
      const [device] = await Promise.all([
        devices.remember(user, {
          cookie: deviceCookie,
          remember: input.rememberDevice === true,
          userAgent,
          ip,
        }),
        store.hashReplace(user.id, keys.factors, factor.id, JSON.stringify(updated)),
        limiter.reset(user.id, challenge.id, factor.id),
      ]);
      await ctx.emit({
        ...base,
        type: "verification.succeeded",
        resource: challenge.resource,
        action: challenge.action,
      });
      return { sid: newSid, assurance, challenge, device };
    },
  };
}

export type Challenges = ReturnType<typeof createChallenges>;
