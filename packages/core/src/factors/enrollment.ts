import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors, parseRecord } from "../internal/records.js";
import type { NeedsStepUp, OwnActions } from "../policy/own-actions.js";
import type { FactorRecord, StepUpUser } from "../types.js";
import type { EnrollmentResult } from "./factor.js";
import type { FactorRemoval } from "./factor-removal.js";

interface PendingEnrollment {
  type: string;
  name: string;
  pending: Record<string, unknown>;
  /** The user's reset mark when it started (`keys.reset`); absent when there was none. */
  reset?: string;
}

const ENROLLMENT_TTL_SECONDS = 600;
const ENROLL_ATTEMPTS = { max: 10, windowSeconds: 600 };
/** Pending enrollments per user: starting more drops the oldest (the store cannot be filled). */
const MAX_PENDING = 10;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * A factor's display name from untrusted input (`{ name }`), trimmed; undefined when absent.
 * @throws StepUpError INVALID_INPUT unless 1-64 characters
 */
export function readName(input: unknown): string | undefined {
  const name = typeof input === "object" && input !== null ? (input as { name?: unknown }).name : undefined;
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 64) {
    throw new StepUpError("INVALID_INPUT", "`name` must be 1-64 characters.", { field: "name" });
  }
  return name.trim();
}

const notFound = () => new StepUpError("ENROLLMENT_NOT_FOUND", "No pending enrollment with that id.");

/** A confirmed enrollment: the new factor, and the recovery codes that come with a first one. */
export interface EnrollmentConfirmed {
  factor: FactorRecord;
  recoveryCodes?: string[];
}

/**
 * Starting and confirming enrollments. The rule "adding a factor needs a fresh step-up once the
 * user has one" is enforced here, at both ends: a pending enrollment started while the user had no
 * factor must not become a second factor later without a step-up (an attacker holding only the
 * password session would start one, wait for the victim to enroll, then confirm theirs).
 *
 * An administrator's reset must leave no factor behind, even one whose confirmation is running at
 * that moment. A reset first writes a new mark (`keys.reset`), then deletes; a confirmation writes
 * its factor (and first recovery codes), then reads the mark: changed since the enrollment started,
 * it removes what it wrote. Either the confirmation's read sees the new mark (it undoes itself) or
 * it came before the mark was written, and so did its writes, which the reset then deletes.
 */
export function createEnrollment(
  ctx: EngineContext,
  own: OwnActions,
  issueRecoveryCodes: (user: StepUpUser) => Promise<string[] | undefined>,
  removal: FactorRemoval,
) {
  const { store, config } = ctx;
  const isRecovery = (f: FactorRecord) => config.factors.get(f.type)?.recovery === true;

  async function realFactors(uid: string): Promise<FactorRecord[]> {
    return parseFactors(await store.hashGetAll(uid, keys.factors)).filter((f) => !isRecovery(f));
  }

  async function loadPending(uid: string, type: string, factorId: unknown) {
    if (typeof factorId !== "string" || !ID.test(factorId)) throw notFound();
    const [raw] = await store.getMany(uid, [keys.enrollment(factorId)]);
    const pending = parseRecord<PendingEnrollment>(raw);
    const plugin = config.factors.get(type);
    if (!pending || pending.type !== type || !plugin) throw notFound();
    return { factorId, pending, plugin };
  }

  /**
   * How long a first-factor claim holds: long enough for one confirmation whose every store call
   * takes its whole deadline (fewer than 30 calls; the claim only has to outlive the calls up to the
   * factor's write, after which the factor itself keeps others out), short enough that a claim a
   * confirmation could not release (the store lost the claim's reply, or failed after the proof)
   * blocks the user's enrollments for a minute by default, not for the enrollment's 10.
   */
  const claimTtlSeconds = Math.max(1, Math.ceil((30 * config.storeTimeoutMs) / 1000));

  /**
   * Claims "this confirmation creates the user's first factor", atomically: of two enrollments
   * confirmed at once by a user with no factor, one claims it; the other must step up with it.
   */
  async function claimFirst(uid: string, factorId: string): Promise<boolean> {
    if ((await realFactors(uid)).length > 0) return false;
    return store.setIfAbsent(uid, keys.firstFactor, factorId, claimTtlSeconds);
  }

  /** Every other pending enrollment ends when a first factor is confirmed. */
  async function endOthers(uid: string, factorId: string): Promise<void> {
    const ids = (await store.list(uid, keys.enrollments)).filter((id) => id !== factorId);
    if (ids.length > 0) await store.delete(uid, ids.map(keys.enrollment));
  }

  /** Counts the attempt, checks the proof, and takes the pending record (one factor per enrollment). */
  async function prove(
    user: StepUpUser,
    type: string,
    found: Awaited<ReturnType<typeof loadPending>>,
    input: unknown,
  ): Promise<EnrollmentResult> {
    const tries = await store.increment(
      user.id,
      keys.attemptsEnroll(found.factorId),
      ENROLL_ATTEMPTS.windowSeconds,
    );
    if (tries.count > ENROLL_ATTEMPTS.max) {
      throw new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Start again later.", {
        retryAfter: tries.ttlSeconds,
      });
    }
    const factorCtx = ctx.factorContext(user, type);
    const result = await found.plugin.enrollConfirm(factorCtx, found.factorId, found.pending.pending, input);
    if (!result) {
      throw new StepUpError("INVALID_CODE", "That code is not valid.", {
        attemptsRemaining: ENROLL_ATTEMPTS.max - tries.count,
      });
    }
    if ((await store.take(user.id, keys.enrollment(found.factorId))) === null) throw notFound();
    return result;
  }

  /** The user's reset mark now (`keys.reset`); null when no reset is recent. */
  async function resetMark(uid: string): Promise<string | null> {
    const [mark] = await store.getMany(uid, [keys.reset]);
    return mark ?? null;
  }

  /**
   * After a confirmation wrote its factor: a reset since the enrollment started (see above) takes
   * it away again, with the recovery codes when no other factor is left.
   * @throws StepUpError ENROLLMENT_NOT_FOUND when it did
   */
  async function undoIfReset(user: StepUpUser, pending: PendingEnrollment, factor: FactorRecord) {
    if ((await resetMark(user.id)) === (pending.reset ?? null)) return;
    if (await removal.discard(user, factor)) {
      await ctx.emit({
        type: "factor.removed",
        userId: user.id,
        factor: factor.type,
        factorId: factor.id,
        reason: "user.reset",
      });
    }
    await removal.tidyRecovery(user);
    throw notFound();
  }

  return {
    /**
     * Starts enrolling a factor of `type`; the pending state lives 10 minutes, server-side. `ip`
     * (the client's address) counts sends of factors that send a code.
     * @returns the client's view (`factorId` and the plugin's response), or the step-up to do first
     */
    async start(
      user: StepUpUser,
      type: string,
      input: unknown,
      sid: string | undefined,
      ip?: string,
    ): Promise<Record<string, unknown> | NeedsStepUp> {
      const plugin = config.factors.get(type);
      if (!plugin || plugin.recovery)
        throw new StepUpError("NOT_FOUND", `The factor type "${type}" is not enabled.`);
      if ((await realFactors(user.id)).length > 0) {
        const required = await own.check(user, sid, "factor.add");
        if (required) return required;
      }
      const factorId = ctx.newId(12);
      const reset = await resetMark(user.id);
      const started = await plugin.enrollStart(ctx.factorContext(user, type, ip), factorId, input);
      const record: PendingEnrollment = {
        type,
        name: started.name,
        pending: started.pending,
        ...(reset === null ? {} : { reset }),
      };
      await store.set(user.id, keys.enrollment(factorId), JSON.stringify(record), ENROLLMENT_TTL_SECONDS);
      const dropped = await store.append(
        user.id,
        keys.enrollments,
        factorId,
        MAX_PENDING,
        ENROLLMENT_TTL_SECONDS,
      );
      if (dropped.length > 0) await store.delete(user.id, dropped.map(keys.enrollment));
      return { factorId, ...started.response };
    },

    /** The client's view of a pending enrollment again, or undefined when it expired or was used. */
    async resume(user: StepUpUser, type: string, factorId: string) {
      const found = await loadPending(user.id, type, factorId).catch(() => undefined);
      if (!found?.plugin.enrollResume) return undefined;
      const view = await found.plugin.enrollResume(
        ctx.factorContext(user, type),
        factorId,
        found.pending.pending,
      );
      return { factorId, ...view };
    },

    /**
     * Confirms an enrollment with its first proof. The step-up rule is checked before the proof
     * is counted or the pending record is touched, so stepping up and retrying the same code works.
     * Attempts are bounded, and the pending record is taken atomically: one enrollment, at most one
     * factor.
     * @throws StepUpError ENROLLMENT_NOT_FOUND, INVALID_INPUT, INVALID_CODE, TOO_MANY_ATTEMPTS
     */
    async confirm(
      user: StepUpUser,
      type: string,
      factorId: unknown,
      input: unknown,
      sid: string | undefined,
    ): Promise<EnrollmentConfirmed | NeedsStepUp> {
      const found = await loadPending(user.id, type, factorId);
      const name = readName(input);
      const first = await claimFirst(user.id, found.factorId);
      if (!first) {
        const required = await own.check(user, sid, "factor.add");
        if (required) return required;
      }
      // Only this confirmation's own claim: a release that comes late (its claim expired while a
      // store call hung, and another confirmation has claimed since) must not free the other's.
      const release = async () => {
        if (first) await store.deleteIfEquals(user.id, keys.firstFactor, found.factorId);
      };
      let result: EnrollmentResult;
      try {
        result = await prove(user, type, found, input);
      } catch (error) {
        await release();
        throw error;
      }
      const factor: FactorRecord = {
        id: found.factorId,
        type,
        name: name ?? result.name ?? found.pending.name,
        createdAtMs: ctx.now(),
        lastUsedAtMs: null,
        primary: first,
        data: result.data,
      };
      await store.hashSet(user.id, keys.factors, found.factorId, JSON.stringify(factor));
      await ctx.emit({ type: "factor.enrolled", userId: user.id, factor: type, factorId: found.factorId });
      ctx.notify(user, "factor.added", { factor });
      if (!first) {
        await undoIfReset(user, found.pending, factor);
        return { factor };
      }
      await endOthers(user.id, found.factorId);
      // The first factor comes with recovery codes, shown once: losing the phone must not mean
      // losing the account, and codes issued later would need a step-up the user can no longer do.
      const recoveryCodes = await issueRecoveryCodes(user);
      // Last, after every write of this confirmation (the codes included).
      await undoIfReset(user, found.pending, factor);
      return recoveryCodes ? { factor, recoveryCodes } : { factor };
    },
  };
}
