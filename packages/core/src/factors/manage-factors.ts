import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors } from "../internal/records.js";
import type { NeedsStepUp, OwnActions } from "../policy/own-actions.js";
import type { FactorRecord, StepUpUser } from "../types.js";
import { createEnrollment, readName } from "./enrollment.js";
import { createFactorRemoval, recoveryPlugin } from "./factor-removal.js";

const notFound = () => new StepUpError("FACTOR_NOT_FOUND", "No such factor is enrolled.");

/**
 * Enrollment, listing, renaming and removal of a user's factors. Calls that need a fresh step-up
 * (adding a second factor, removing one, new recovery codes) check it here and answer
 * `{ stepUpRequired: rule }` when it is missing: the rule lives in core, not in each route.
 */
export function createFactorManager(ctx: EngineContext, own: OwnActions) {
  const { store, config } = ctx;

  async function list(uid: string): Promise<FactorRecord[]> {
    return parseFactors(await store.hashGetAll(uid, keys.factors));
  }

  const recovery = recoveryPlugin(config);
  const removal = createFactorRemoval(ctx);
  const recoveryCtx = (user: StepUpUser) => ctx.factorContext(user, "recovery");
  const isRecovery = (f: FactorRecord) => config.factors.get(f.type)?.recovery === true;

  /** Issues codes, creating the recovery factor record the challenge flow picks them by. */
  async function issueRecoveryCodes(user: StepUpUser): Promise<string[] | undefined> {
    if (!recovery) return undefined;
    if (!(await list(user.id)).some((f) => f.type === recovery.type)) {
      const id = ctx.newId(12);
      const record: FactorRecord = {
        id,
        type: recovery.type,
        name: "Recovery codes",
        createdAtMs: ctx.now(),
        lastUsedAtMs: null,
        primary: false,
        data: {},
      };
      await store.hashSet(user.id, keys.factors, id, JSON.stringify(record));
    }
    return recovery.issue(recoveryCtx(user));
  }

  async function find(uid: string, factorId: unknown): Promise<FactorRecord> {
    const factor =
      typeof factorId === "string" ? (await list(uid)).find((f) => f.id === factorId) : undefined;
    if (!factor) throw notFound();
    return factor;
  }

  const enrollment = createEnrollment(ctx, own, issueRecoveryCodes, removal);

  return {
    list,
    enrollStart: enrollment.start,
    enrollResume: enrollment.resume,
    enrollConfirm: enrollment.confirm,

    /** Whether a user has a factor other than recovery codes. */
    async hasFactors(uid: string): Promise<boolean> {
      return (await list(uid)).some((f) => !isRecovery(f));
    },

    /** New recovery codes (old ones die), after a fresh step-up for `stepup:recovery.regenerate`. */
    async regenerateRecoveryCodes(
      user: StepUpUser,
      sid: string | undefined,
    ): Promise<{ recoveryCodes: string[] } | NeedsStepUp> {
      if (!recovery) throw new StepUpError("NOT_FOUND", "Recovery codes are not enabled.");
      if (!(await list(user.id)).some((f) => !isRecovery(f))) {
        throw new StepUpError("FACTOR_NOT_FOUND", "Set up a second factor first.");
      }
      const required = await own.check(user, sid, "recovery.regenerate");
      if (required) return required;
      return { recoveryCodes: (await issueRecoveryCodes(user)) ?? [] };
    },

    /** How many unused recovery codes a user has; null when recovery codes are not enabled. */
    async recoveryCodesRemaining(uid: string): Promise<number | null> {
      return recovery ? recovery.remaining(recoveryCtx({ id: uid })) : null;
    },

    /** Renames a factor or makes it primary (the others stop being primary); not recovery codes. */
    async update(uid: string, factorId: unknown, input: unknown): Promise<FactorRecord> {
      const name = readName(input);
      const primary =
        typeof input === "object" && input !== null ? (input as { primary?: unknown }).primary : undefined;
      if (primary !== undefined && primary !== true) {
        throw new StepUpError("INVALID_INPUT", "`primary` can only be set to true.", { field: "primary" });
      }
      const factor = await find(uid, factorId);
      // Recovery codes are a count, not a factor the user manages (the API and the console list
      // them apart): renamed, or made primary (offered first on every challenge, the user's real
      // factor demoted) by anyone holding the session, they would not be what the user set up.
      if (isRecovery(factor)) throw notFound();
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
      if (!(await store.hashReplace(uid, keys.factors, factor.id, JSON.stringify(updated)))) throw notFound();
      await ctx.emit({ type: "factor.updated", userId: uid, factor: factor.type, factorId: factor.id });
      return updated;
    },

    /** Removes a factor, after a fresh step-up for `stepup:factor.remove`. */
    async remove(
      user: StepUpUser,
      factorId: unknown,
      sid: string | undefined,
    ): Promise<{ removed: FactorRecord } | NeedsStepUp> {
      // The step-up comes first: without it, nothing says whether an id exists.
      const required = await own.check(user, sid, "factor.remove");
      if (required) return required;
      const factor = await find(user.id, factorId);
      if (!(await removal.discard(user, factor))) throw notFound();
      await ctx.emit({ type: "factor.removed", userId: user.id, factor: factor.type, factorId: factor.id });
      ctx.notify(user, "factor.removed", { factor });
      await removal.tidyRecovery(user, isRecovery(factor));
      return { removed: factor };
    },
  };
}

export type FactorManager = ReturnType<typeof createFactorManager>;
