import { createHmac, timingSafeEqual } from "node:crypto";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseRecord } from "../internal/records.js";
import type { StepUpEvent } from "../types.js";

/** One entry of a user's audit log: the event, and the chain that makes tampering visible. */
export type AuditEntry = StepUpEvent & {
  /** Position in the user's log (1, 2, ...): a removed entry leaves a gap. */
  seq: number;
  /** The `mac` of the entry before (empty for the first ever). */
  prev: string;
  /** HMAC-SHA-256 of `prev` and this entry under a key derived from the secret. */
  mac: string;
};

/** What `verifyAuditChain` found. */
export type AuditChainResult =
  | { ok: true; entries: number }
  | { ok: false; entries: number; brokenAt: number; id: string; reason: "edited" | "missing" | "unreadable" };

/** Entries kept per user (the oldest go first). */
export const AUDIT_LENGTH = 200;
const AUDIT_TTL_SECONDS = 400 * 86_400;
/** Tries of one append when other appends of the same user keep landing first. */
const MAX_TRIES = 200;
/** Users whose last entry this process remembers (saves a conflict round trip); the oldest go first. */
const HEADS = 1000;

type Body = Omit<AuditEntry, "mac">;

const sorted = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function canonical(entry: Body): string {
  // Every field, in a fixed order: the MAC must not depend on how JSON happened to order keys, and
  // a field added to the entry (even one this version does not know) is covered.
  return JSON.stringify(sorted(entry).map(([k, v]) => [k, k === "metadata" ? sorted(v as object) : v]));
}

/**
 * The audit log: per user, bounded (the newest 200 entries), hash-chained. Each entry carries the
 * MAC of the one before and its own MAC, keyed from the secret: an edited entry fails its MAC, a
 * removed one breaks the chain (`prev` and `seq`), and someone who can write the store but does not
 * hold the secret cannot forge a consistent chain. An append lands only right after the entry it
 * names (`appendAfter`, atomic in the store), so concurrent events never fork the chain.
 */
export function createAuditLog(ctx: EngineContext) {
  const { store } = ctx;
  const macKey = Buffer.from(ctx.keyring.hash("stepup:audit-chain"));
  const mac = (body: Body) => createHmac("sha256", macKey).update(canonical(body)).digest("base64url");
  // The last entry this process wrote per user: usually still the last, so an append is one round
  // trip; when another process appended since, the store answers its actual last entry.
  const heads = new Map<string, string>();
  const remember = (uid: string, value: string) => {
    heads.delete(uid);
    heads.set(uid, value);
    if (heads.size > HEADS) heads.delete(heads.keys().next().value as string);
  };
  // Per user, the tail of this process's appends (removed once it settles: bounded by in-flight users).
  const queues = new Map<string, Promise<unknown>>();

  /** One append: a compare-and-append, retried with the actual last entry when another landed first. */
  async function appendNow(event: StepUpEvent): Promise<AuditEntry> {
    const uid = event.userId;
    let lastRaw = heads.get(uid) ?? null;
    for (let i = 0; i < MAX_TRIES; i++) {
      const last = lastRaw === null ? undefined : parseRecord<AuditEntry>(lastRaw);
      const body = { ...event, seq: (last?.seq ?? 0) + 1, prev: last?.mac ?? "" } as Body;
      const entry = { ...body, mac: mac(body) } as AuditEntry;
      const value = JSON.stringify(entry);
      const result = await store.appendAfter(
        uid,
        keys.audit,
        lastRaw,
        value,
        AUDIT_LENGTH,
        AUDIT_TTL_SECONDS,
      );
      if (result.appended) {
        remember(uid, value);
        return entry;
      }
      lastRaw = result.last;
    }
    heads.delete(uid);
    throw new Error("audit log: too many concurrent appends for one user");
  }

  async function read(uid: string): Promise<(AuditEntry | undefined)[]> {
    return (await store.list(uid, keys.audit)).map((raw) => parseRecord<AuditEntry>(raw));
  }

  return {
    /**
     * Appends an event to its user's log, right after the chain's last entry (`appendAfter`).
     */
    append(event: StepUpEvent): Promise<AuditEntry> {
      // One user's appends from this process run one after another: they would only conflict with
      // each other (a retry each); appends from other processes still race, and retry.
      const uid = event.userId;
      const run = (queues.get(uid) ?? Promise.resolve()).then(() => appendNow(event));
      const tail = run.catch(() => undefined);
      queues.set(uid, tail);
      void tail.then(() => {
        if (queues.get(uid) === tail) queues.delete(uid);
      });
      return run;
    },

    /** The user's entries, newest first (at most `limit`). */
    async list(uid: string, limit = 50): Promise<AuditEntry[]> {
      const all = (await read(uid)).filter((e): e is AuditEntry => e !== undefined);
      return all.reverse().slice(0, Math.max(0, limit));
    },

    /**
     * Checks the chain from the oldest kept entry (older ones were dropped by the bound): every MAC,
     * every `prev`, every `seq`. Reports the first break.
     */
    async verify(uid: string): Promise<AuditChainResult> {
      const entries = await read(uid);
      let before: AuditEntry | undefined;
      for (const [i, e] of entries.entries()) {
        if (!e || typeof e.mac !== "string")
          return { ok: false, entries: entries.length, brokenAt: i, id: "", reason: "unreadable" };
        const { mac: given, ...body } = e;
        const expected = mac(body);
        if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected)))
          return { ok: false, entries: entries.length, brokenAt: i, id: e.id, reason: "edited" };
        if (before && (e.prev !== before.mac || e.seq !== before.seq + 1))
          return { ok: false, entries: entries.length, brokenAt: i, id: e.id, reason: "missing" };
        before = e;
      }
      return { ok: true, entries: entries.length };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
