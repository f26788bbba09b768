// The invariants, checked on the client-side record of every request and answer.
import type { Rec } from "./client.js";
import type { Run } from "./users.js";

/** Own actions (new recovery codes) need a step-up of the last 5 minutes, whatever STEPUP_MAX_AGE says. */
const OWN_MAX_AGE_S = 300;
/** Date.now() is read in whole ms on both sides of a request; a little room for that. */
const CLOCK_SLACK_MS = 20;

const TOTP_KINDS = new Set(["verify-totp", "replay-totp", "replay-old", "enrol-confirm"]);
const RECOVERY_KINDS = new Set(["verify-recovery", "replay-recovery", "replay-old"]);
const VERIFICATIONS = new Set([
  "verify-totp",
  "verify-recovery",
  "replay-totp",
  "replay-recovery",
  "verify-email",
  "replay-email",
  "cross-email",
]);
const EMAIL_KINDS = new Set(["verify-email", "replay-email", "cross-email", "enrol-email-confirm"]);
/** Codes mailed to one address (and to one user) an hour, at most: the run is shorter than the hour. */
const MAILS_PER_ADDRESS = 10;

const at = (r: Rec) =>
  `${r.kind} on process ${r.proc} (sent +${r.sendMs % 100_000} ms, answered ${r.status} +${r.recvMs % 100_000} ms)`;

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

export function checkInvariants(run: Run, maxAgeS: number): string[] {
  const { records } = run;
  const violations: string[] = [];

  // 1. No TOTP time step accepted twice for a user, and none older than one accepted before
  //    (RFC 6238 5.2): of two acceptances where the second was sent after the first was answered,
  //    the second's step is greater.
  const totp = records.filter(
    (r) => r.status === 200 && TOTP_KINDS.has(r.kind) && r.tag?.step !== undefined && r.tag.step >= 0,
  );
  for (const [user, list] of groupBy(totp, (r) => r.user)) {
    for (const [step, same] of groupBy(list, (r) => r.tag?.step)) {
      if (same.length > 1)
        violations.push(
          `user ${user}: TOTP step ${step} accepted ${same.length} times: ${same.map(at).join("; ")}`,
        );
    }
    for (const b of list) {
      for (const a of list) {
        if (a !== b && a.recvMs < b.sendMs && (b.tag?.step ?? 0) < (a.tag?.step ?? 0))
          violations.push(
            `user ${user}: TOTP step ${b.tag?.step} accepted after step ${a.tag?.step}: ${at(a)}, then ${at(b)}`,
          );
      }
    }
  }

  // 2. No recovery code accepted twice (all processes), none that was never issued, and none of a
  //    set replaced before it was sent. Two regenerations at once: codes of at most one set work after both.
  const recovery = records.filter(
    (r) =>
      r.status === 200 && RECOVERY_KINDS.has(r.kind) && r.tag?.code !== undefined && r.tag.step === undefined,
  );
  for (const [code, same] of groupBy(recovery, (r) => r.tag?.code)) {
    if (same.length > 1)
      violations.push(`recovery code ${code} accepted ${same.length} times: ${same.map(at).join("; ")}`);
  }
  const reportedPairs = new Set<string>();
  for (const r of recovery) {
    const issued = run.issued.get(r.tag?.code ?? "");
    if (!issued) {
      violations.push(`user ${r.user}: a recovery code never issued was accepted: ${at(r)}`);
      continue;
    }
    const gens = run.generations.get(issued.user) ?? [];
    const own = gens.find((g) => g.gen === issued.gen);
    if (!own) continue;
    for (const h of gens) {
      if (h.gen === issued.gen || h.recvMs >= r.sendMs) continue;
      if (h.sendMs > own.recvMs) {
        violations.push(
          `user ${issued.user}: recovery code of set ${issued.gen} accepted after set ${h.gen} replaced it: ${at(r)}`,
        );
      } else if (own.sendMs < h.recvMs) {
        // Issued at the same time: only one of the two sets may work once both are answered.
        const both = Math.max(own.recvMs, h.recvMs);
        const otherSet = recovery.find(
          (b) =>
            run.issued.get(b.tag?.code ?? "")?.gen === h.gen &&
            run.issued.get(b.tag?.code ?? "")?.user === issued.user &&
            b.sendMs > both,
        );
        const pair = `${issued.user}:${Math.min(issued.gen, h.gen)}:${Math.max(issued.gen, h.gen)}`;
        if (r.sendMs > both && otherSet && !reportedPairs.has(pair)) {
          reportedPairs.add(pair);
          violations.push(
            `user ${issued.user}: recovery codes of two sets issued at once (${issued.gen} and ${h.gen}) both accepted: ${at(r)}; ${at(otherSet)}`,
          );
        }
      }
    }
  }

  // 3. No wrong code accepted, no code accepted again in sequence.
  for (const r of records) {
    if (r.status === 200 && (r.kind === "verify-wrong" || r.kind === "replay-old"))
      violations.push(`user ${r.user}: ${r.kind} accepted: ${at(r)} ${JSON.stringify(r.tag)}`);
  }

  // 4. No grant without a verification: every 200 of a guarded route (and 201 of new recovery
  //    codes) follows a successful verification in that browser, since its last logout, recent
  //    enough for the rule (a verification without an answer counts: it may have succeeded).
  //    A transfer's grant pays for one transfer only, and only for the transaction it was bound to.
  //    A browser that never signed in, or the cookies of one that logged out, open nothing.
  const verifications = groupBy(
    records.filter((r) => VERIFICATIONS.has(r.kind) && (r.status === 200 || r.status === 0)),
    (r) => r.jar,
  );
  const paidPerTxn = new Map<string, number>();
  for (const r of records) {
    if (r.kind === "guard-fresh-jar" || r.kind === "guard-after-logout") {
      if (r.status === 200) violations.push(`${r.kind} got 200: ${at(r)}`);
      continue;
    }
    const own = r.kind === "regen" || r.kind === "enrol-email-start";
    const granted =
      (r.status === 200 && (r.kind === "guard" || r.kind === "transfer")) || (r.status === 201 && own);
    if (!granted) continue;
    const maxAgeMs = (own ? OWN_MAX_AGE_S : maxAgeS) * 1000;
    const txn = r.kind === "transfer" ? r.tag?.txn : undefined;
    const behind = (verifications.get(r.jar) ?? []).filter(
      (v) =>
        v.epoch === r.epoch &&
        v.sendMs <= r.recvMs &&
        v.recvMs >= r.sendMs - maxAgeMs - CLOCK_SLACK_MS &&
        (txn === undefined || v.tag?.txn === txn),
    );
    if (behind.length === 0) {
      violations.push(
        `user ${r.user}: ${r.kind} granted without a verification in that session${txn ? ` for ${txn}` : ""}: ${at(r)}`,
      );
      continue;
    }
    if (txn !== undefined) {
      const paid = (paidPerTxn.get(txn) ?? 0) + 1;
      paidPerTxn.set(txn, paid);
      if (paid > behind.length)
        violations.push(
          `user ${r.user}: transfer ${txn} paid ${paid} times after ${behind.length} verification(s): ${at(r)}`,
        );
    }
  }

  // 5. Email codes: none accepted twice (a code is known by the mail it came in), none on a challenge
  //    (or enrolment) other than the one it was mailed for, and no address mailed more codes than
  //    the hourly limit allows, whichever process sent them.
  const email = records.filter(
    (r) => r.status === 200 && EMAIL_KINDS.has(r.kind) && r.tag?.mail !== undefined,
  );
  for (const [mail, same] of groupBy(email, (r) => r.tag?.mail)) {
    if (same.length > 1)
      violations.push(`email code of mail ${mail} accepted ${same.length} times: ${same.map(at).join("; ")}`);
  }
  for (const r of email) {
    if (r.tag?.challenge !== r.tag?.sentFor)
      violations.push(
        `user ${r.user}: email code mailed for ${r.tag?.sentFor} accepted on ${r.tag?.challenge}: ${at(r)}`,
      );
  }
  const mailed = groupBy(
    (run.smtp?.messages ?? []).filter((m) => m.code !== ""),
    (m) => m.to,
  );
  for (const [to, list] of mailed) {
    if (list.length > MAILS_PER_ADDRESS)
      violations.push(`${list.length} codes mailed to ${to} (at most ${MAILS_PER_ADDRESS} an hour)`);
  }
  return violations;
}
