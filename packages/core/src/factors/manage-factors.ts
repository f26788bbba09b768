import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys, parseFactors, parseRecord } from "../internal/records.js";
import type { FactorRecord, StepUpUser } from "../types.js";

interface PendingEnrollment {
  type: string;
  name: string;
  pending: Record<string, unknown>;
}

const ENROLLMENT_TTL_SECONDS = 600;
const ENROLL_ATTEMPTS = { max: 10, windowSeconds: 600 };

function readName(input: unknown): string | undefined {
  const name = typeof input === "object" && input !== null ? (input as { name?: unknown }).name : undefined;
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name.trim().length === 0 || name.length > 64) {
    throw new StepUpError("INVALID_INPUT", "`name` must be 1-64 characters.", { field: "name" });
  }
  return name.trim();
}

/** Enrollment, listing, renaming and removal of a user's factors. */
export function createFactorManager(ctx: EngineContext) {
  const { store, config } = ctx;

  async function list(uid: string): Promise<FactorRecord[]> {
    return parseFactors(await store.hashGetAll(uid, keys.factors));
  }

  async function find(uid: string, factorId: unknown): Promise<FactorRecord> {
    const factor =
      typeof factorId === "string" ? (await list(uid)).find((f) => f.id === factorId) : undefined;
    if (!factor) throw new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");
    return factor;
  }

  return {
    list,

    /** Starts enrolling a factor of `type`; the pending state lives 10 minutes, server-side. */
    async enrollStart(user: StepUpUser, type: string, input: unknown) {
      const plugin = config.factors.get(type);
      if (!plugin) throw new StepUpError("NOT_FOUND", `The factor type "${type}" is not enabled.`);
      const factorId = ctx.newId(12);
      const started = await plugin.enrollStart(ctx.factorContext(user), factorId, input);
      const record: PendingEnrollment = { type, name: started.name, pending: started.pending };
      await store.set(user.id, keys.enrollment(factorId), JSON.stringify(record), ENROLLMENT_TTL_SECONDS);
      ctx.emit({ type: "factor.enrollment.started", userId: user.id, factor: type, factorId });
      return { factorId, ...started.response };
    },

    /** The client's view of a pending enrollment again, or undefined when it expired or was used. */
    async enrollResume(user: StepUpUser, type: string, factorId: string) {
      const [raw] = await store.getMany(user.id, [keys.enrollment(factorId)]);
      const pending = parseRecord<PendingEnrollment>(raw);
      const plugin = config.factors.get(type);
      if (!pending || pending.type !== type || !plugin?.enrollResume) return undefined;
      return { factorId, ...(await plugin.enrollResume(ctx.factorContext(user), factorId, pending.pending)) };
    },

    /**
     * Confirms an enrollment with its first proof. Attempts are bounded like verifications, and
     * the pending record is taken atomically, so one enrollment yields at most one factor.
     */
    async enrollConfirm(
      user: StepUpUser,
      type: string,
      factorId: unknown,
      input: unknown,
    ): Promise<FactorRecord> {
      if (typeof factorId !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(factorId)) {
        throw new StepUpError("ENROLLMENT_NOT_FOUND", "No pending enrollment with that id.");
      }
      const [raw] = await store.getMany(user.id, [keys.enrollment(factorId)]);
      const pending = parseRecord<PendingEnrollment>(raw);
      const plugin = config.factors.get(type);
      if (!pending || pending.type !== type || !plugin) {
        throw new StepUpError("ENROLLMENT_NOT_FOUND", "No pending enrollment with that id.");
      }
      const name = readName(input);
      const tries = await store.increment(
        user.id,
        `attempts:enroll:${factorId}`,
        ENROLL_ATTEMPTS.windowSeconds,
      );
      if (tries.count > ENROLL_ATTEMPTS.max) {
        throw new StepUpError("TOO_MANY_ATTEMPTS", "Too many attempts. Start again later.", {
          retryAfter: tries.ttlSeconds,
        });
      }
      const result = await plugin.enrollConfirm(ctx.factorContext(user), factorId, pending.pending, input);
      if (!result) {
        throw new StepUpError("INVALID_CODE", "That code is not valid.", {
          attemptsRemaining: ENROLL_ATTEMPTS.max - tries.count,
        });
      }
      if ((await store.take(user.id, keys.enrollment(factorId))) === null) {
        throw new StepUpError("ENROLLMENT_NOT_FOUND", "No pending enrollment with that id.");
      }
      const existing = await list(user.id);
      const factor: FactorRecord = {
        id: factorId,
        type,
        name: name ?? result.name ?? pending.name,
        createdAtMs: ctx.now(),
        lastUsedAtMs: null,
        primary: existing.length === 0,
        data: result.data,
      };
      await store.hashSet(user.id, keys.factors, factorId, JSON.stringify(factor));
      ctx.emit({ type: "factor.enrolled", userId: user.id, factor: type, factorId });
      return factor;
    },

    /** Renames a factor or makes it primary (the others stop being primary). */
    async update(uid: string, factorId: unknown, input: unknown): Promise<FactorRecord> {
      const name = readName(input);
      const primary =
        typeof input === "object" && input !== null ? (input as { primary?: unknown }).primary : undefined;
      if (primary !== undefined && primary !== true) {
        throw new StepUpError("INVALID_INPUT", "`primary` can only be set to true.", { field: "primary" });
      }
      const factor = await find(uid, factorId);
      const updated = { ...factor, name: name ?? factor.name, primary: primary ?? factor.primary };
      if (primary) {
        for (const other of await list(uid)) {
          if (other.id !== factor.id && other.primary) {
            await store.hashReplace(
              uid,
              keys.factors,
              other.id,
              JSON.stringify({ ...other, primary: false }),
            );
          }
        }
      }
      if (!(await store.hashReplace(uid, keys.factors, factor.id, JSON.stringify(updated)))) {
        throw new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");
      }
      ctx.emit({ type: "factor.updated", userId: uid, factor: factor.type, factorId: factor.id });
      return updated;
    },

    /** Removes a factor. The HTTP layer requires a fresh step-up before calling this. */
    async remove(uid: string, factorId: unknown): Promise<void> {
      const factor = await find(uid, factorId);
      if (!(await store.hashDelete(uid, keys.factors, factor.id))) {
        throw new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");
      }
      ctx.emit({ type: "factor.removed", userId: uid, factor: factor.type, factorId: factor.id });
    },
  };
}

export type FactorManager = ReturnType<typeof createFactorManager>;
