import type { ResolvedConfig } from "../config.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors } from "../internal/records.js";
import type { FactorRecord, StepUpUser } from "../types.js";
import type { RecoveryCodesPlugin } from "./recovery-codes.js";

/** The recovery-code plugin, when configured. */
export function recoveryPlugin(config: ResolvedConfig): RecoveryCodesPlugin | undefined {
  const plugin = [...config.factors.values()].find((p) => p.recovery === true);
  return plugin?.type === "recovery" ? (plugin as RecoveryCodesPlugin) : undefined;
}

/**
 * Removing factors, the one way: the record goes, then what its plugin keeps elsewhere (the WebAuthn
 * credential-id index, in the plugin's shared scope). A user's removal, an administrator's reset and
 * an enrollment undone by a reset all come through here, so none leaves an entry behind.
 */
export function createFactorRemoval(ctx: EngineContext) {
  const { store, config } = ctx;
  const recovery = recoveryPlugin(config);
  const isRecovery = (f: FactorRecord) => config.factors.get(f.type)?.recovery === true;

  return {
    /** Deletes one factor and its plugin's keys; false when it was already gone (nothing done). */
    async discard(user: StepUpUser, factor: FactorRecord): Promise<boolean> {
      if (!(await store.hashDelete(user.id, keys.factors, factor.id))) return false;
      await config.factors.get(factor.type)?.removed?.(ctx.factorContext(user, factor.type), factor);
      return true;
    },

    /**
     * Recovery codes exist only beside a real factor: with the last one gone (or `always`, when
     * the codes themselves are what is removed), so are they, and the next factor is a first one
     * again.
     */
    async tidyRecovery(user: StepUpUser, always = false): Promise<void> {
      const rest = parseFactors(await store.hashGetAll(user.id, keys.factors));
      const alone = !rest.some((f) => !isRecovery(f));
      if (!always && !alone) return;
      if (recovery) await recovery.clear(ctx.factorContext(user, recovery.type));
      for (const r of rest.filter(isRecovery)) await store.hashDelete(user.id, keys.factors, r.id);
      if (alone) await store.delete(user.id, [keys.firstFactor]);
    },
  };
}

export type FactorRemoval = ReturnType<typeof createFactorRemoval>;
