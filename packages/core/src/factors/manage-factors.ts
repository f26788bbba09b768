import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys, parseFactors, parseRecord } from "../internal/records.js";
import type { FactorRecord, StepUpUser } from "../types.js";
import type { RecoveryCodesPlugin } from "./recovery-codes.js";

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

  const plugin = config.factors.get("recovery");
  const recovery = plugin?.type === "recovery" ? (plugin as RecoveryCodesPlugin) : undefined;

  /** Issues codes, creating the recovery factor record the challenge flow picks them by. */
  async function issueRecoveryCodes(user: StepUpUser): Promise<string[] | undefined> {
    if (!recovery) return undefined;
    if (!(await list(user.id)).some((f) => f.type === "recovery")) {
      const id = ctx.newId(12);
      const record: FactorRecord = {
        id,
        type: "recovery",
        name: "Recovery codes",
        createdAtMs: ctx.now(),
        lastUsedAtMs: null,
        primary: false,
        data: {},
      };
      await store.hashSet(user.id, keys.factors, id, JSON.stringify(record));
    }
    return recovery.issue(ctx.factorContext(user));
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
    ): Promise<{ factor: FactorRecord; recoveryCodes?: string[] }> {
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
      const existing = (await list(user.id)).filter((f) => f.type !== "recovery");
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
      // The first factor comes with recovery codes, shown once: losing the phone must not mean
      // losing the account, and codes issued later would need a step-up the user can no longer do.
      const recoveryCodes = existing.length === 0 ? await issueRecoveryCodes(user) : undefined;
      return recoveryCodes ? { factor, recoveryCodes } : { factor };
    },

    /** New recovery codes (old ones die). The HTTP layer requires a fresh step-up first. */
    async regenerateRecoveryCodes(user: StepUpUser): Promise<string[]> {
      if (!recovery) throw new StepUpError("NOT_FOUND", "Recovery codes are not enabled.");
      if (!(await list(user.id)).some((f) => f.type !== "recovery")) {
        throw new StepUpError("FACTOR_NOT_FOUND", "Set up a second factor first.");
      }
      return (await issueRecoveryCodes(user)) ?? [];
    },

    /** How many unused recovery codes a user has; null when recovery codes are not enabled. */
    async recoveryCodesRemaining(uid: string): Promise<number | null> {
      return recovery ? recovery.remaining(ctx.factorContext({ id: uid })) : null;
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
      // Recovery codes exist only beside a real factor: with the last one gone, so are they.
      const rest = await list(uid);
      if (recovery && (factor.type === "recovery" || !rest.some((f) => f.type !== "recovery"))) {
        await recovery.clear(ctx.factorContext({ id: uid }));
        for (const r of rest.filter((f) => f.type === "recovery"))
          await store.hashDelete(uid, keys.factors, r.id);
      }
    },
  };
}

export type FactorManager = ReturnType<typeof createFactorManager>;
