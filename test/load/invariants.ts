// The invariants, checked on the client-side record of every request and answer.
import { CHANNELS, CODE_VERIFY_KINDS, type Kind, type Rec } from "./client.js";
import { callingCode, type Run } from "./users.js";

/** Own actions (new recovery codes) need a step-up of the last 5 minutes, whatever STEPUP_MAX_AGE says. */
const OWN_MAX_AGE_S = 300;
/** Date.now() is read in whole ms on both sides of a request; a little room for that. */
const CLOCK_SLACK_MS = 20;

const TOTP_KINDS = new Set(["verify-totp", "replay-totp", "replay-old", "enrol-confirm"]);
const RECOVERY_KINDS = new Set(["verify-recovery", "replay-recovery", "replay-old"]);
const VERIFICATIONS = new Set<Kind>([
  "verify-totp",
  "verify-recovery",
  "replay-totp",
  "replay-recovery",
  ...CODE_VERIFY_KINDS,
]);
/** Answers that accept an email or SMS code: a challenge's, or an enrolment's confirmation. */
const CODE_KINDS = new Set<Kind>([
  ...CODE_VERIFY_KINDS,
  ...CHANNELS.map((c) => `enrol-${c}-confirm` as const),
]);
/** Starts of an email or SMS enrolment: adding a factor needs a step-up, like new recovery codes. */
const CODE_ENROL_STARTS = new Set<Kind>(CHANNELS.map((c) => `enrol-${c}-start` as const));
/** Codes sent to one address or number (and to one user) an hour, at most: the run is shorter than the hour. */
const CODES_PER_DESTINATION = 10;
/** Texts sent to one calling code an hour, all users together, at most (the library's SMS pumping limit). */
const TEXTS_PER_CALLING_CODE = 100;

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
    const own = r.kind === "regen" || CODE_ENROL_STARTS.has(r.kind);
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

  // 5. Email and SMS codes: none accepted twice (a code is known by the message it came in), none
  //    on a challenge (or enrolment) other than the one it was sent for, no address or number sent
  //    more codes than the hourly limit allows, and no calling code more texts, whichever process
  //    sent them.
  const accepted = records.filter(
    (r) => r.status === 200 && CODE_KINDS.has(r.kind) && r.tag?.message !== undefined,
  );
  for (const [message, same] of groupBy(accepted, (r) => r.tag?.message)) {
    if (same.length > 1)
      violations.push(`code of message ${message} accepted ${same.length} times: ${same.map(at).join("; ")}`);
  }
  for (const r of accepted) {
    if (r.tag?.challenge !== r.tag?.sentFor)
      violations.push(
        `user ${r.user}: code of message ${r.tag?.message} sent for ${r.tag?.sentFor} accepted on ${r.tag?.challenge}: ${at(r)}`,
      );
  }
  for (const channel of CHANNELS) {
    const sent = (run.inboxes?.[channel]?.messages ?? []).filter((m) => m.code !== "");
    for (const [to, list] of groupBy(sent, (m) => m.to)) {
      if (list.length > CODES_PER_DESTINATION)
        violations.push(
          `${list.length} ${channel} codes sent to ${to} (at most ${CODES_PER_DESTINATION} an hour)`,
        );
    }
    if (channel !== "sms") continue;
    for (const [cc, list] of groupBy(sent, (m) => callingCode(m.to))) {
      if (list.length > TEXTS_PER_CALLING_CODE)
        violations.push(
          `${list.length} SMS codes sent to calling code +${cc} (at most ${TEXTS_PER_CALLING_CODE} an hour)`,
        );
    }
  }

  // 6. No successful send without its message: every start answered 200 (a challenge's) or 201 (an
  //    enrolment's) had a code reach the capture server for its address or number while it ran
  //    (the start answers once the relay or gateway has accepted the message).
  for (const channel of CHANNELS) {
    const sent = (run.inboxes?.[channel]?.messages ?? []).filter((m) => m.code !== "");
    for (const r of records) {
      const ok =
        (r.kind === `send-${channel}` && r.status === 200) ||
        (r.kind === `enrol-${channel}-start` && r.status === 201);
      if (!ok) continue;
      const arrived = sent.some(
        (m) =>
          m.to === r.tag?.to &&
          m.receivedAtMs >= r.sendMs - CLOCK_SLACK_MS &&
          m.receivedAtMs <= r.recvMs + CLOCK_SLACK_MS,
      );
      if (!arrived)
        violations.push(
          `user ${r.user}: ${r.kind} answered ${r.status} but no code reached ${r.tag?.to}: ${at(r)}`,
        );
    }
  }
  return violations;
}
