import type { Sessions } from "../assurance/sessions.js";
import type { AttemptLimiter } from "../challenge/attempt-limiter.js";
import type { DeviceSummary, Devices } from "../devices/devices.js";
import { StepUpError } from "../errors.js";
import { createFactorRemoval, recoveryPlugin } from "../factors/factor-removal.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseFactors, parseRecord, summarize } from "../internal/records.js";
import type { FactorRecord, FactorSummary, StepUpUser } from "../types.js";

/** A factor as an administrator sees it: its summary, its kind in words, a masked destination. */
export interface AdminFactorSummary extends FactorSummary {
  /** The factor type in words ("Authenticator app"). */
  title: string;
  /** Where codes go, masked as a challenge shows it (`a***@example.com`); never the full value. */
  destination?: string;
}

/** A policy REVIEW decision kept for an administrator (the `decide` hook answered REVIEW). */
export interface AdminReview {
  at: string;
  resource: string;
  action: string;
  ip?: string;
}

/** What `admin.status` says about a user. An unknown id reads as a user with nothing set up. */
export interface AdminUserStatus {
  /** Whether the user has a factor other than recovery codes (two-step verification is on). */
  enabled: boolean;
  /** How many such factors. */
  factorCount: number;
  /** Those factors, primary first: summaries only, never a secret or a full address or number. */
  factors: AdminFactorSummary[];
  /** Unused recovery codes; null when recovery codes are not enabled. */
  recoveryCodesRemaining: number | null;
  /** Trusted devices ("remember this device"), most recently used first. */
  devices: DeviceSummary[];
  /**
   * Until when the user cannot verify with any of their factors (ISO 8601), or null. The hard lock
   * after the consecutive-failure cap has no end of its own: `9999-12-31T23:59:59.999Z`, with
   * `userLocked: true` (an unlock or a recovery code ends it).
   */
  lockedUntil: string | null;
  /** The hard lock after the consecutive-failure cap. */
  userLocked: boolean;
  /** Policy REVIEW decisions kept for an administrator, newest first (90 days, at most 100). */
  reviews: AdminReview[];
}

/** Who acts: the administrator's user id, recorded as `metadata.by` of every event the action causes. */
export interface AdminActionOptions {
  by: string;
}

/** `reset`'s options: `user`, the target's `{ id, email?, ... }` for the notice (else `{ id }` only). */
export interface AdminResetOptions extends AdminActionOptions {
  user?: StepUpUser;
}

/** The hard lock's `lockedUntil`: the latest instant RFC 3339 can write. */
export const NO_END = "9999-12-31T23:59:59.999Z";

/** How long a reset mark refuses older enrollments: well past the 10 minutes an enrollment lives. */
const RESET_MARK_SECONDS = 3_600;
const MAX_ID = 256;

/**
 * A user id from untrusted input (an admin API path): 1-256 characters, no control characters.
 * @throws StepUpError INVALID_INPUT naming `field`
 */
export function readUserId(value: unknown, field = "userId"): string {
  const ok =
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= MAX_ID &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\u0000-\u001f\u007f-\u009f]/.test(value);
  if (!ok)
    throw new StepUpError(
      "INVALID_INPUT",
      `\`${field}\` must be 1-${MAX_ID} characters, no control characters.`,
      {
        field,
      },
    );
  return value;
}

/**
 * What an administrator does for a user who lost their factors or whose account was misused: look,
 * reset, revoke, unlock. No HTTP and no authorization here: the caller decides who is an
 * administrator and that their step-up (`stepup:admin`) is fresh. Every action is an event of the
 * target user with `metadata.by`.
 */
export function createAdmin(
  ctx: EngineContext,
  parts: { sessions: Sessions; devices: Devices; limiter: AttemptLimiter },
) {
  const { store, config } = ctx;
  const { sessions, devices, limiter } = parts;
  const removal = createFactorRemoval(ctx);
  const recovery = recoveryPlugin(config);
  const isRecovery = (f: FactorRecord) => config.factors.get(f.type)?.recovery === true;
  const factorsOf = async (uid: string) => parseFactors(await store.hashGetAll(uid, keys.factors));

  function describe(f: FactorRecord): AdminFactorSummary {
    const plugin = config.factors.get(f.type);
    const destination = plugin?.describe?.(f).destination;
    return {
      ...summarize(f),
      title: plugin?.ui.title ?? f.type,
      ...(destination === undefined ? {} : { destination }),
    };
  }

  /** When the user can verify again with a real factor: the delay, and all their factors' window locks. */
  async function lockOf(uid: string, real: readonly FactorRecord[]) {
    const [locked, throttle, ...ends] = await store.getMany(uid, [
      keys.locked,
      keys.throttle,
      ...real.map((f) => keys.lockedFactor(f.id)),
    ]);
    if (locked !== null) return { userLocked: true, lockedUntil: NO_END };
    const now = ctx.now();
    const factorEnds = ends.map((e) => Number(e ?? 0));
    // One factor still usable: the user is not locked out by the window locks.
    const allFactors =
      factorEnds.length > 0 && factorEnds.every((e) => e > now) ? Math.min(...factorEnds) : 0;
    const until = Math.max(Number(throttle ?? 0) || 0, allFactors);
    return { userLocked: false, lockedUntil: until > now ? new Date(until).toISOString() : null };
  }

  async function reviewsOf(uid: string): Promise<AdminReview[]> {
    const kept = (await store.list(uid, keys.reviews))
      .map((raw) => parseRecord<{ atMs?: unknown; resource?: unknown; action?: unknown; ip?: unknown }>(raw))
      .filter(
        (r) => typeof r?.atMs === "number" && typeof r.resource === "string" && typeof r.action === "string",
      );
    return kept.reverse().map((r) => ({
      at: new Date(r?.atMs as number).toISOString(),
      resource: r?.resource as string,
      action: r?.action as string,
      ...(typeof r?.ip === "string" ? { ip: r.ip } : {}),
    }));
  }

  /** Deletes the listed ids' keys and the list itself (open challenges, pending enrollments). */
  async function dropListed(uid: string, list: string, keysOf: (id: string) => string[]): Promise<void> {
    const ids = await store.list(uid, list);
    await store.delete(uid, [...ids.flatMap(keysOf), list]);
  }

  return {
    /** The user's factors, recovery codes, devices, lock and kept REVIEW decisions. */
    async status(uid: string): Promise<AdminUserStatus> {
      readUserId(uid);
      const all = await factorsOf(uid);
      const real = all.filter((f) => !isRecovery(f));
      const [recoveryCodesRemaining, trusted, lock, reviews] = await Promise.all([
        recovery ? recovery.remaining(ctx.factorContext({ id: uid }, recovery.type)) : null,
        devices.list(uid),
        lockOf(uid, real),
        reviewsOf(uid),
      ]);
      return {
        enabled: real.length > 0,
        factorCount: real.length,
        factors: real.map(describe),
        recoveryCodesRemaining,
        devices: trusted,
        ...lock,
        reviews,
      };
    },

    /**
     * Starts the user over: every factor (with what its plugin keeps, such as the WebAuthn index),
     * recovery code and trusted device gone, pending enrollments and open challenges gone, every
     * assurance ended, locks and failure counts cleared; `user.reset` recorded and the user told
     * (`notify`, to `options.user`). An enrollment being confirmed meanwhile cannot survive it (the
     * reset mark, see `createEnrollment`).
     */
    async reset(uid: string, options: AdminResetOptions): Promise<void> {
      readUserId(uid);
      const by = readUserId(options?.by, "by");
      const user: StepUpUser = { id: uid };
      // First: from now on, no enrollment started before this point can be confirmed.
      await store.set(uid, keys.reset, ctx.newId(), RESET_MARK_SECONDS);
      await dropListed(uid, keys.enrollments, (id) => [keys.enrollment(id), keys.attemptsEnroll(id)]);
      await dropListed(uid, keys.challenges, (id) => [keys.challenge(id), keys.attemptsChallenge(id)]);
      const removed = await factorsOf(uid);
      for (const factor of removed) {
        if (!(await removal.discard(user, factor))) continue;
        await ctx.emit({
          type: "factor.removed",
          userId: uid,
          factor: factor.type,
          factorId: factor.id,
          reason: "user.reset",
          by,
        });
      }
      await removal.tidyRecovery(user, true);
      await limiter.unlock(
        uid,
        removed.map((f) => f.id),
      );
      // After the factors: a verification still running with one cannot outlast the revocation.
      await sessions.revokeUser(uid, by);
      await devices.revokeAll(uid, by);
      await ctx.emit({ type: "user.reset", userId: uid, by });
      const given = options.user;
      if (given && given.id !== uid)
        config.logger.warn("admin reset: `user` names another user: the notice goes to the id only", {});
      ctx.notify(given?.id === uid ? given : user, "user.reset");
    },

    /** Ends every assurance of the user and forgets their trusted devices (`user.revoked`). */
    async revoke(uid: string, options: AdminActionOptions): Promise<void> {
      readUserId(uid);
      const by = readUserId(options?.by, "by");
      await sessions.revokeUser(uid, by);
      await devices.revokeAll(uid, by);
    },

    /** Ends the user's lock, growing delay, failure count and factor window locks (`user.unlocked`). */
    async unlock(uid: string, options: AdminActionOptions): Promise<void> {
      readUserId(uid);
      const by = readUserId(options?.by, "by");
      await limiter.unlock(
        uid,
        (await factorsOf(uid)).map((f) => f.id),
      );
      await ctx.emit({ type: "user.unlocked", userId: uid, by });
    },
  };
}

export type Admin = ReturnType<typeof createAdmin>;
