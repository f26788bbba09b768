import { StepUpError } from "../errors.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseSession } from "../internal/records.js";
import type { Assurance, Rule, SessionRecord } from "../types.js";
import { FUTURE_SKEW_MS, findAssurance } from "./find-assurance.js";

/** A step-up session that satisfies a rule now: what was verified, and until when it counts. */
export interface FreshResult {
  readonly fresh: true;
  readonly assurance: Assurance;
  readonly verifiedAtMs: number;
  readonly expiresAtMs: number;
}

/** Whether a step-up session satisfies a rule now. */
export type FreshnessResult = FreshResult | { readonly fresh: false };

/** A kept fresh answer and what it was computed under. */
interface FreshMemo {
  result: FreshResult;
  revokedBeforeMs: number;
  computedAtMs: number;
}

/** Rules whose answers one session record keeps (more: the record's answers start over). */
const MEMO_RULES = 64;

const MAX_ASSURANCES = 20;
const NOT_FRESH: FreshnessResult = Object.freeze({ fresh: false });
const CACHED = Object.freeze({ cache: true });

/** Parsed session records kept (by session id, with the exact text parsed): the guard parses once. */
const PARSED_SESSIONS = 1000;

/** What a fresh session answers for a rule: the assurance, and until when it counts (frozen: may be shared). */
function freshResult(assurance: Assurance, rule: Rule): FreshResult {
  return Object.freeze({
    fresh: true,
    assurance,
    verifiedAtMs: assurance.atMs,
    expiresAtMs: assurance.atMs + rule.maxAge * 1000,
  });
}

export function createSessions(ctx: EngineContext) {
  const { store } = ctx;
  // The same record is read on every request of a session: parse its text once. Kept by session
  // id (a short key to hash) with the exact text it was parsed from: a changed text is parsed again.
  const parsed = new Map<string, { raw: string; session: SessionRecord }>();
  function parseCached(sid: string, raw: string | null, uid: string): SessionRecord | undefined {
    if (raw === null) return undefined;
    const hit = parsed.get(sid);
    if (hit !== undefined && hit.raw === raw) return hit.session.uid === uid ? hit.session : undefined;
    const session = parseSession(raw, uid);
    if (session) {
      // Shared by every request of the session from now on (and handed on as `req.stepUp.amr`).
      for (const a of session.assurances) {
        Object.freeze(a.amr);
        Object.freeze(a);
      }
      Object.freeze(session.assurances);
      Object.freeze(session);
      if (hit === undefined && parsed.size >= PARSED_SESSIONS)
        parsed.delete(parsed.keys().next().value as string);
      parsed.set(sid, { raw, session });
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

  /**
   * A fresh answer is the same object for as long as it stays true: the guard's hot path then
   * allocates no result (nor, above it, a decision or the handler's info) per request. Kept per
   * parsed record (so it goes with the record) and rule, with the revocation mark it was computed
   * under; a record holds answers for at most MEMO_RULES rules (a caller passing a new rule object
   * each time cannot grow it). Exact: the best assurance found stays the best until it expires
   * (every newer one was already counted), unless the revocation mark changes, the clock goes
   * back, or the record holds a future-dated assurance (one that may start counting later): those
   * are computed again, or not kept.
   */
  const memo = new WeakMap<SessionRecord, Map<Rule, FreshMemo>>();

  function fresh(
    session: SessionRecord,
    rule: Rule,
    nowMs: number,
    revokedBeforeMs: number,
  ): FreshnessResult {
    const rules = memo.get(session);
    const hit = rules?.get(rule);
    if (
      hit !== undefined &&
      hit.revokedBeforeMs === revokedBeforeMs &&
      nowMs >= hit.computedAtMs &&
      nowMs <= hit.result.expiresAtMs
    )
      return hit.result;
    const assurance = findAssurance(session, rule, nowMs, revokedBeforeMs);
    if (!assurance) return NOT_FRESH;
    const result = freshResult(assurance, rule);
    if (!session.assurances.some((a) => a.atMs > nowMs + FUTURE_SKEW_MS)) {
      const kept = rules ?? new Map<Rule, FreshMemo>();
      if (rules === undefined) memo.set(session, kept);
      else if (kept.size >= MEMO_RULES) kept.clear();
      kept.set(rule, { result, revokedBeforeMs, computedAtMs: nowMs });
    }
    return result;
  }

  /** The answer for a rule from the two raw values (session record, revocation mark). */
  function answer(
    uid: string,
    sid: string,
    [rawSession, rawRevoked]: readonly (string | null | undefined)[],
    rule: Rule,
    txn: string | undefined,
  ): FreshnessResult | Promise<FreshnessResult> {
    const session = parseCached(sid, rawSession ?? null, uid);
    if (!session) return NOT_FRESH;
    const revokedBeforeMs = Number(rawRevoked) || 0;
    if (rule.match !== "transaction") return fresh(session, rule, ctx.now(), revokedBeforeMs);
    const assurance = findAssurance(session, rule, ctx.now(), revokedBeforeMs, txn);
    if (!assurance || txn === undefined) return NOT_FRESH;
    // The grant is consumed: one verification pays for one transaction.
    return store
      .take(uid, keys.txnGrant(session.familyId, txn))
      .then((grant): FreshnessResult => (grant === null ? NOT_FRESH : freshResult(assurance, rule)));
  }

  return {
    /**
     * Answers "fresh enough?" for a rule. Costs one store round trip, plus one atomic `take` for a
     * transaction-bound rule (the grant is consumed: one verification pays for one transaction).
     * Synchronous when the store's coherent cache holds the record (`peek`): await it either way.
     * A fresh answer may be shared with other calls: it is frozen.
     */
    check(
      uid: string,
      sid: string | undefined,
      rule: Rule,
      txn?: string,
    ): FreshnessResult | Promise<FreshnessResult> {
      if (!sid) return NOT_FRESH;
      const wanted = [keys.session(sid), keys.revoked];
      // A store with a coherent cache answers from memory; otherwise one round trip (which may fill it).
      const peeked = store.peek?.(uid, wanted);
      if (peeked !== undefined) return answer(uid, sid, peeked, rule, txn);
      return store.getMany(uid, wanted, CACHED).then((raw) => answer(uid, sid, raw, rule, txn));
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
      // A logout racing this verification (the same browser, the old cookie) must end the new id
      // too, whichever finishes first: it finds the new id here, or this finds its mark below.
      await store.set(uid, keys.rotatedTo(oldSid), sid, ctx.config.challengeTtl);
      await store.delete(uid, [keys.session(oldSid)]);
      const [ended] = await store.getMany(uid, [keys.sessionEnded(oldSid)]);
      if ((ended ?? null) !== null) {
        await store.delete(uid, [keys.session(sid)]);
        throw new StepUpError("CHALLENGE_NOT_FOUND", "This step-up session was signed out.");
      }
      return sid;
    },

    /** Ends one step-up session (logout). */
    async revokeSession(uid: string, sid: string): Promise<void> {
      // First the mark: a verification still running on this id sees it after its own writes and
      // undoes them (see `grant`), and no challenge of this session takes a code any more.
      await store.set(uid, keys.sessionEnded(sid), "1", ctx.config.challengeTtl);
      // A verification that finished first rotated this id: the browser may still receive the new
      // cookie after this logout's answer, so the new id ends too.
      const [rotated] = await store.getMany(uid, [keys.rotatedTo(sid)]);
      for (const id of rotated ? [sid, rotated] : [sid]) {
        const { session } = await read(uid, id);
        // Tokens minted in this session carry its family id: they end with it.
        if (session) await store.set(uid, keys.familyRevoked(session.familyId), "1", ctx.config.sessionTtl);
        await store.delete(uid, [keys.session(id)]);
      }
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
