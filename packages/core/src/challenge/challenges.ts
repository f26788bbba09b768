import { meetsLevel } from "../assurance/find-assurance.js";
import type { Sessions } from "../assurance/sessions.js";
import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys, parseChallenge, parseFactors } from "../internal/records.js";
import type { Assurance, Challenge, FactorRecord, Rule, StepUpUser } from "../types.js";
import { createAttemptLimiter } from "./attempt-limiter.js";

/** Where to go after success, and what to re-submit. */
export interface ChallengeTarget {
  returnTo?: string;
  method?: string;
  form?: readonly (readonly [string, string])[];
  txn?: string;
}

/** What a client needs to answer a challenge. */
export interface OpenedChallenge {
  challenge: Challenge;
  /** Enrolled factors this challenge accepts, primary first. */
  factors: FactorRecord[];
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
}

export function createChallenges(ctx: EngineContext, sessions: Sessions) {
  const { store, config } = ctx;
  const limiter = createAttemptLimiter(ctx);

  async function enrolled(uid: string): Promise<FactorRecord[]> {
    return parseFactors(await store.hashGetAll(uid, keys.factors));
  }

  async function load(uid: string, id: unknown): Promise<Challenge> {
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      throw new StepUpError(
        "CHALLENGE_NOT_FOUND",
        "This verification request does not exist or has expired.",
      );
    }
    const [raw] = await store.getMany(uid, [keys.challenge(id)]);
    const challenge = parseChallenge(raw, uid);
    if (!challenge || challenge.expiresAtMs <= ctx.now()) {
      throw new StepUpError(
        "CHALLENGE_NOT_FOUND",
        "This verification request does not exist or has expired.",
      );
    }
    return challenge;
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

  return {
    enrolled,
    load,
    lockedFor: limiter.lockedFor,

    /** Opens a single-use challenge bound to the user and their step-up session. */
    async open(
      user: StepUpUser,
      sid: string,
      rule: Rule,
      target: ChallengeTarget = {},
    ): Promise<OpenedChallenge> {
      const now = ctx.now();
      // Only factors strong enough for the rule's level may answer it.
      const allowed = rule.factors.filter((t) => {
        const plugin = config.factors.get(t);
        return plugin !== undefined && meetsLevel(plugin.level, rule.level);
      });
      const factors = (await enrolled(user.id)).filter((f) => allowed.includes(f.type));
      const challenge: Challenge = {
        id: ctx.newId(),
        uid: user.id,
        sid,
        resource: rule.resource,
        action: rule.action,
        maxAge: rule.maxAge,
        level: rule.level,
        factors: allowed,
        userVerification: rule.userVerification,
        ...target,
        createdAtMs: now,
        expiresAtMs: now + config.challengeTtl * 1000,
      };
      await store.set(user.id, keys.challenge(challenge.id), JSON.stringify(challenge), config.challengeTtl);
      ctx.emit({
        type: "challenge.created",
        userId: user.id,
        challengeId: challenge.id,
        resource: rule.resource,
        action: rule.action,
      });
      return { challenge, factors };
    },

    /** Runs a factor's optional start step (send a code, WebAuthn options). */
    async start(
      user: StepUpUser,
      sid: string,
      id: unknown,
      input: VerifyInput,
    ): Promise<Record<string, unknown>> {
      const challenge = await load(user.id, id);
      if (challenge.sid !== sid)
        throw new StepUpError("CHALLENGE_SESSION_MISMATCH", "This verification belongs to another session.");
      const factor = pickFactor(challenge, await enrolled(user.id), input);
      const plugin = config.factors.get(factor.type);
      return plugin?.challengeStart ? plugin.challengeStart(ctx.factorContext(user), factor, challenge) : {};
    },

    /**
     * Checks a proof. Every attempt is counted before it is evaluated (atomic increments), so N
     * concurrent guesses count N times; the challenge is consumed atomically on success.
     * @throws StepUpError CHALLENGE_NOT_FOUND, CHALLENGE_SESSION_MISMATCH, FACTOR_NOT_ALLOWED,
     *   FACTOR_NOT_FOUND, INVALID_INPUT, INVALID_CODE, TOO_MANY_ATTEMPTS, STORE_UNAVAILABLE
     */
    async verify(
      user: StepUpUser,
      sid: string,
      id: unknown,
      input: VerifyInput,
      ip?: string,
    ): Promise<VerifyResult> {
      const challenge = await load(user.id, id);
      if (challenge.sid !== sid)
        throw new StepUpError("CHALLENGE_SESSION_MISMATCH", "This verification belongs to another session.");
      const factor = pickFactor(challenge, await enrolled(user.id), input);
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
      const budget = await limiter.spend(user.id, challenge.id, factor.id, ip);
      if (!budget.allowed) {
        ctx.emit({ ...base, type: "verification.locked", reason: "TOO_MANY_ATTEMPTS" });
        throw new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Try again later.", {
          retryAfter: budget.retryAfter,
        });
      }
      const outcome = await plugin.verify(ctx.factorContext(user), factor, challenge, input);
      if (!outcome.ok) {
        ctx.emit({ ...base, type: "verification.failed", reason: outcome.reason });
        throw new StepUpError("INVALID_CODE", "That code is not valid.", {
          attemptsRemaining: budget.remaining,
        });
      }
      // Single use: of concurrent successful proofs, exactly one takes the challenge.
      if ((await store.take(user.id, keys.challenge(challenge.id))) === null) {
        ctx.emit({ ...base, type: "verification.failed", reason: "CHALLENGE_NOT_FOUND" });
        throw new StepUpError(
          "CHALLENGE_NOT_FOUND",
          "This verification request does not exist or has expired.",
        );
      }
      const now = ctx.now();
      const assurance: Assurance = {
        atMs: now,
        factor: factor.type,
        factorId: factor.id,
        level: plugin.level,
        amr: plugin.amr,
        resource: challenge.resource,
        action: challenge.action,
        ...(challenge.txn === undefined ? {} : { txn: challenge.txn }),
      };
      const newSid = await sessions.grant(user.id, sid, assurance);
      const updated = { ...factor, ...(outcome.data ? { data: outcome.data } : {}), lastUsedAtMs: now };
      await Promise.all([
        store.hashReplace(user.id, keys.factors, factor.id, JSON.stringify(updated)),
        limiter.reset(user.id, challenge.id, factor.id),
      ]);
      ctx.emit({
        ...base,
        type: "verification.succeeded",
        resource: challenge.resource,
        action: challenge.action,
      });
      return { sid: newSid, assurance, challenge };
    },
  };
}

export type Challenges = ReturnType<typeof createChallenges>;
