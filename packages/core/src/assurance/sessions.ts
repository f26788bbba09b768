import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseSession } from "../internal/records.js";
import type { Assurance, Rule, SessionRecord } from "../types.js";
import { findAssurance } from "./find-assurance.js";

/** Whether a step-up session satisfies a rule now. */
export type FreshnessResult =
  | { fresh: true; assurance: Assurance; verifiedAtMs: number; expiresAtMs: number }
  | { fresh: false };

const MAX_ASSURANCES = 20;
const NOT_FRESH: FreshnessResult = Object.freeze({ fresh: false });
const CACHED = Object.freeze({ cache: true });

/** Parsed session records kept by their exact stored text (the guard's hot path parses once). */
const PARSED_SESSIONS = 1000;

export function createSessions(ctx: EngineContext) {
  const { store } = ctx;
  // The same record is read on every request of a session: parse its text once. Keyed by the whole
  // stored value, so a changed record is a new key; the records are only ever read from here.
  const parsed = new Map<string, SessionRecord>();
  function parseCached(raw: string | null, uid: string): SessionRecord | undefined {
    if (raw === null) return undefined;
    const hit = parsed.get(raw);
    if (hit !== undefined) return hit.uid === uid ? hit : undefined;
    const session = parseSession(raw, uid);
    if (session) {
      if (parsed.size >= PARSED_SESSIONS) parsed.delete(parsed.keys().next().value as string);
      parsed.set(raw, session);
    }
    return session;
  }

  /** One round trip: the session record and the user's revocation mark (same scope, one MGET). */
  async function read(
    uid: string,
    sid: string,
  ): Promise<{ session?: SessionRecord; revokedBeforeMs: number }> {
    const [rawSession, rawRevoked] = await store.getMany(uid, [keys.session(sid), keys.revoked]);
    return { session: parseSession(rawSession, uid), revokedBeforeMs: Number(rawRevoked ?? 0) || 0 };
  }

  return {
    /**
     * Answers "fresh enough?" for a rule. Costs one store round trip, plus one atomic `take` for a
     * transaction-bound rule (the grant is consumed: one verification pays for one transaction).
     */
    async check(uid: string, sid: string | undefined, rule: Rule, txn?: string): Promise<FreshnessResult> {
      if (!sid) return NOT_FRESH;
      const wanted = [keys.session(sid), keys.revoked];
      // A store with a coherent cache answers from memory; otherwise one round trip (which may fill it).
      const [rawSession, rawRevoked] =
        store.peek?.(uid, wanted) ?? (await store.getMany(uid, wanted, CACHED));
      const session = parseCached(rawSession ?? null, uid);
      if (!session) return NOT_FRESH;
      const assurance = findAssurance(session, rule, ctx.now(), Number(rawRevoked) || 0, txn);
      if (!assurance) return NOT_FRESH;
      if (rule.match === "transaction" && txn !== undefined) {
        const grant = await store.take(uid, keys.txnGrant(session.familyId, txn));
        if (grant === null) return NOT_FRESH;
      }
      return {
        fresh: true,
        assurance,
        verifiedAtMs: assurance.atMs,
        expiresAtMs: assurance.atMs + rule.maxAge * 1000,
      };
    },

    /**
     * Records a verification under a new session id (the old one is deleted): rotation stops a
     * session id seen before the step-up from carrying the new assurance (session fixation).
     */
    async grant(uid: string, oldSid: string, assurance: Assurance): Promise<string> {
      const { session } = await read(uid, oldSid);
      const sid = ctx.newId();
      const record: SessionRecord = {
        uid,
        familyId: session?.familyId ?? ctx.newId(),
        createdAtMs: session?.createdAtMs ?? assurance.atMs,
        assurances: [...(session?.assurances ?? []), assurance].slice(-MAX_ASSURANCES),
      };
      await store.set(uid, keys.session(sid), JSON.stringify(record), ctx.config.sessionTtl);
      if (assurance.txn !== undefined) {
        await store.set(uid, keys.txnGrant(record.familyId, assurance.txn), "1", ctx.config.sessionTtl);
      }
      await store.delete(uid, [keys.session(oldSid)]);
      return sid;
    },

    /** Ends one step-up session (logout). */
    async revokeSession(uid: string, sid: string): Promise<void> {
      const { session } = await read(uid, sid);
      // Tokens minted in this session carry its family id: they end with it.
      if (session) await store.set(uid, keys.familyRevoked(session.familyId), "1", ctx.config.sessionTtl);
      await store.delete(uid, [keys.session(sid)]);
      await ctx.emit({ type: "session.revoked", userId: uid });
    },

    /**
     * Ends every assurance of a user at once, on every process: one mark that every check reads in
     * the same round trip as the session (no list of sessions to walk, nothing to miss). `by`: the
     * administrator who asked (`metadata.by` of the event).
     */
    async revokeUser(uid: string, by?: string): Promise<void> {
      await store.set(uid, keys.revoked, String(ctx.now()), ctx.config.sessionTtl);
      await ctx.emit({ type: "user.revoked", userId: uid, ...(by === undefined ? {} : { by }) });
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
