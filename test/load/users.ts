// A virtual user: one account, a main browser and a second device, doing a random mix of step-ups,
// guarded calls, wrong codes, replays (the same code to several processes at once), transfers and
// logouts, spread over every process, until the deadline. A third of the users also enrol email
// and step up with the codes mailed to them, another third SMS, with the codes texted to them.
import { nowMs } from "../support/codes.js";
import { PASSWORD } from "../support/demo.js";
import { codeFor, STEP_MS, wrongCode } from "../support/totp.js";
import { type Answer, type Channel, Jar, type Kind, type LoadContext } from "./client.js";

/** A message with a code, as a capture server (SMTP, SMS webhook) received it. */
export interface CodeMessage {
  to: string;
  /** The code in it ("" for a message without one, e.g. a security notice). */
  code: string;
  receivedAtMs: number;
}

/** One channel's capture server, as the users and the invariants read it. */
export interface Inbox {
  /** Every message it received, in arrival order. */
  readonly messages: readonly CodeMessage[];
  /**
   * The next message with a code to `to` received at or after `sinceMs` that no earlier call
   * returned (rejects after a few seconds without one).
   */
  next(to: string, sinceMs: number): Promise<CodeMessage>;
}

/**
 * Calling codes of the load test's phone numbers (prefix-free, like E.164's): the library also
 * limits the texts sent to one calling code (100 an hour, all users together, against SMS pumping),
 * so the numbers are spread over ten of them and that limit stays out of the way.
 */
export const CALLING_CODES = ["1", "44", "33", "49", "61", "81", "34", "39", "31", "46"] as const;

/** The calling code of one of the load test's numbers. */
export const callingCode = (phone: string) => CALLING_CODES.find((c) => phone.startsWith(`+${c}`)) ?? "?";

/** What the virtual users share, beyond the HTTP side. */
export interface Run extends LoadContext {
  /** The adapter of each process (`express`, `next`), by index. */
  adapters: readonly string[];
  deadlineMs: number;
  /** Random numbers (seeded, so a run's mix can be replayed). */
  random: () => number;
  /** Recovery code -> its user and generation (0: issued at enrolment, then one per regeneration). */
  issued: Map<string, { user: number; gen: number }>;
  /** Every regeneration (and enrolment, as generation 0) by user: when it was sent and answered. */
  generations: Map<number, { gen: number; sendMs: number; recvMs: number }[]>;
  /** Accounts signed up so far, and the most the run may sign up (new accounts are part of the mix). */
  accounts: number;
  maxAccounts: number;
  /** Counters of the mix (printed with the figures). */
  events: Map<string, number>;
  /** `recoveryCodesRemaining` answers above the issued count (each one a violation). */
  overIssued: string[];
  /** The capture servers every demo process sends its codes to: SMTP for email, a webhook for SMS. */
  inboxes: Record<Channel, Inbox>;
}

const RECOVERY_COUNT = 10;
const GUARDED = ["/api/export", "/admin"] as const;
const RESOURCES = [
  ["data", "export"],
  ["admin", "read"],
] as const;

let nextUser = 0;

export class VirtualUser {
  id = ++nextUser;
  email = "";
  secret = "";
  factorId = "";
  recoveryId = "";
  /** Unused recovery codes this user holds (of generation `gen`). */
  codes: string[] = [];
  gen = 0;
  /** The highest TOTP step accepted for this user (as far as the client knows). */
  lastStep = -1;
  /** Codes accepted before, for sequential replays. */
  spentTotp: { step: number; code: string }[] = [];
  spentRecovery: string[] = [];
  /** Failed guesses since the last success: kept under the library's limits, so replays stay replays. */
  totpFails = 0;
  fails = 0;
  main: Jar;
  second: Jar;
  private transfers = 0;
  /**
   * The factor that sends codes this user adds after TOTP: email (a third of the users) or SMS
   * (another third); none for the rest.
   */
  readonly channel: Channel | undefined;
  /** Where its codes go: the sign-up address, or the account's phone number. */
  destination = "";
  /** The code factor of the current account, once confirmed. */
  codeFactorId = "";
  /** Set when a send is refused (429 rate_limited: the hour's sends are spent): no more codes for this account. */
  codeLimited = false;

  constructor(readonly run: Run) {
    this.main = new Jar(run);
    this.second = new Jar(run);
    this.channel = this.id % 3 === 0 ? "email" : this.id % 3 === 1 ? "sms" : undefined;
  }

  private count(event: string): void {
    this.run.events.set(event, (this.run.events.get(event) ?? 0) + 1);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.run.random() * items.length)] as T;
  }

  private proc(): number {
    return Math.floor(this.run.random() * this.run.origins.length);
  }

  /** `k` distinct processes, in random order. */
  private procs(k: number): number[] {
    const all = this.run.origins.map((_, i) => i);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(this.run.random() * (i + 1));
      [all[i], all[j]] = [all[j] as number, all[i] as number];
    }
    return all.slice(0, k);
  }

  /** Another process than `p`. */
  private other(p: number): number {
    const n = this.run.origins.length;
    return (p + 1 + Math.floor(this.run.random() * (n - 1))) % n;
  }

  private timeLeft(): boolean {
    return Date.now() < this.run.deadlineMs;
  }

  /** Signs up a new account in the main browser, enrols TOTP, and signs the second device in. */
  async enrol(): Promise<boolean> {
    this.run.accounts++;
    this.id = ++nextUser;
    this.email = `load-${this.id}-${Math.floor(this.run.random() * 1e9)}@example.com`;
    Object.assign(this, { codes: [], gen: 0, lastStep: -1, spentTotp: [], spentRecovery: [] });
    Object.assign(this, { totpFails: 0, fails: 0, secret: "", factorId: "", recoveryId: "" });
    Object.assign(this, { destination: "", codeFactorId: "", codeLimited: false });
    this.main.epoch++;
    this.second.epoch++;
    const signup = await this.main.send("signup", this.id, this.proc(), "POST", "/signup", {
      email: this.email,
      password: PASSWORD,
    });
    if (signup.status !== 201) return false;
    for (let tries = 0; tries < 3 && this.secret === ""; tries++) {
      const p = this.proc();
      const started = await this.main.send("enrol-start", this.id, p, "POST", "/stepup/api/factors/totp", {});
      if (started.status !== 201) continue;
      const { factorId, secret } = started.json as { factorId: string; secret: string };
      // The previous step's code (as the tests do), so the current step stays free for a verification;
      // near a step's end the current one, which stays valid for the next step too.
      const now = Date.now();
      const step = Math.floor(now / STEP_MS) - (STEP_MS - (now % STEP_MS) > 2_000 ? 1 : 0);
      const code = await codeFor(secret, step * STEP_MS);
      const confirmed = await this.main.send(
        "enrol-confirm",
        this.id,
        this.other(p),
        "POST",
        `/stepup/api/factors/totp/${factorId}/confirm`,
        { code },
        { step, code, gen: 0 },
      );
      if (confirmed.status !== 200) continue;
      this.secret = secret;
      this.factorId = factorId;
      this.lastStep = step;
      this.spentTotp.push({ step, code });
      this.takeCodes(confirmed, 0);
    }
    if (this.secret === "") return false;
    const login = await this.second.send("login", this.id, this.proc(), "POST", "/login", {
      email: this.email,
      password: PASSWORD,
    });
    if (login.status !== 200) return false;
    if (this.channel)
      this.count(`${this.channel} enrolment: ${(await this.enrolCode()) ? "done" : "failed"}`);
    return true;
  }

  /** A number of its own for an SMS account: a calling code of the ten, then 9 digits (E.164). */
  private newPhone(): string {
    const cc = this.pick(CALLING_CODES);
    const digits = String(Math.floor(this.run.random() * 1e9)).padStart(9, "0");
    return cc === "1" ? `+1555${digits.slice(2)}` : `+${cc}${digits}`;
  }

  /**
   * Adds the user's code factor (email to its sign-up address, or SMS to a new number): the first
   * start asks for a step-up (`stepup:factor.add`), done with TOTP (or a recovery code); the start
   * again on another process sends a code, confirmed on a third.
   */
  private async enrolCode(): Promise<boolean> {
    const channel = this.channel;
    if (!channel) return false;
    this.destination = channel === "email" ? this.email : this.newPhone();
    const body = channel === "email" ? {} : { phone: this.destination };
    this.main.moveIfNeeded(1, 2);
    const p = this.proc();
    const path = `/stepup/api/factors/${channel}`;
    let t0 = nowMs();
    const to = { to: this.destination };
    let res = await this.main.send(`enrol-${channel}-start`, this.id, p, "POST", path, body, to);
    let q = p;
    if (res.status === 401 && res.json.error === "step_up_required") {
      const challenge = this.challengeOf(res);
      // TOTP or, half the time, a recovery code (every run then accepts some of both, however slow).
      const preferTotp = this.run.random() < 0.5;
      if (!challenge || !(await this.stepUp(this.main, preferTotp, { ...challenge, proc: p }))) return false;
      q = this.other(p);
      t0 = nowMs();
      res = await this.main.send(`enrol-${channel}-start`, this.id, q, "POST", path, body, to);
    }
    if (res.status === 429) this.count(`${channel} send: 429 rate_limited`);
    const factorId = res.json.factorId;
    if (res.status !== 201 || typeof factorId !== "string") return false;
    const message = await this.received(t0);
    if (!message) return false;
    const enrolment = `enrolment ${factorId}`;
    const confirmed = await this.main.send(
      `enrol-${channel}-confirm`,
      this.id,
      this.other(q),
      "POST",
      `${path}/${factorId}/confirm`,
      { code: message.code },
      { code: message.code, message: this.messageId(message), sentFor: enrolment, challenge: enrolment },
    );
    if (confirmed.status !== 200) return false;
    this.codeFactorId = factorId;
    return true;
  }

  /** A message's identity in the record: its channel, destination and place in its capture server's list. */
  private messageId(message: CodeMessage): string {
    const channel = this.channel as Channel;
    return `${channel}:${message.to}#${this.run.inboxes[channel].messages.indexOf(message)}`;
  }

  /**
   * The next message with a code to this user's destination received after `t0` (the send was
   * answered, so it has arrived: the start waits for the relay or gateway to accept it). A user
   * sends one code at a time, so that is the one this send sent. None: the invariants flag the send.
   */
  private received(t0: number): Promise<CodeMessage | undefined> {
    return this.run.inboxes[this.channel as Channel].next(this.destination, t0).catch(() => undefined);
  }

  private takeCodes(answer: Answer, gen: number): void {
    const codes = (answer.json.recoveryCodes as string[] | undefined) ?? [];
    this.codes = [...codes];
    this.gen = gen;
    for (const code of codes) this.run.issued.set(code, { user: this.id, gen });
    const list = this.run.generations.get(this.id) ?? [];
    list.push({ gen, sendMs: answer.rec.sendMs, recvMs: answer.rec.recvMs });
    this.run.generations.set(this.id, list);
  }

  /** The TOTP step a verification can use now, if any: older than the last accepted is refused. */
  private usableStep(): number | undefined {
    const now = Date.now();
    const current = Math.floor(now / STEP_MS);
    const left = STEP_MS - (now % STEP_MS);
    if (current - 1 > this.lastStep && left > 2_000) return current - 1;
    if (current > this.lastStep) return current;
    return undefined;
  }

  private async open(jar: Jar, proc: number): Promise<{ id: string; recoveryId: string } | undefined> {
    const [resource, action] = this.pick(RESOURCES);
    const res = await jar.send("open", this.id, proc, "POST", "/stepup/api/challenges", { resource, action });
    return res.status === 201 ? this.challengeOf(res) : undefined;
  }

  private challengeOf(res: Answer): { id: string; recoveryId: string } | undefined {
    const id = res.json.challengeId;
    if (typeof id !== "string") return undefined;
    const factors = (res.json.factors as { id: string; type: string }[] | undefined) ?? [];
    const recoveryId = factors.find((f) => f.type === "recovery")?.id ?? this.recoveryId;
    this.recoveryId = recoveryId;
    return { id, recoveryId };
  }

  private verifyTotp(
    kind: Kind,
    jar: Jar,
    proc: number,
    challengeId: string,
    step: number,
    code: string,
    txn?: string,
  ): Promise<Answer> {
    return jar.send(
      kind,
      this.id,
      proc,
      "POST",
      `/stepup/api/challenges/${challengeId}/verify`,
      { factor: "totp", code },
      { step, code, ...(txn ? { txn } : {}) },
    );
  }

  private verifyRecovery(
    kind: Kind,
    jar: Jar,
    proc: number,
    challenge: { id: string; recoveryId: string },
    code: string,
    txn?: string,
  ): Promise<Answer> {
    const gen = this.run.issued.get(code)?.gen;
    return jar.send(
      kind,
      this.id,
      proc,
      "POST",
      `/stepup/api/challenges/${challenge.id}/verify`,
      { factor: "recovery", factorId: challenge.recoveryId, code },
      { code, ...(gen === undefined ? {} : { gen }), ...(txn ? { txn } : {}) },
    );
  }

  /** Bookkeeping after a verification answer (the invariants are checked on the records, not here). */
  private settle(res: Answer, how: "totp" | "recovery" | "code"): boolean {
    if (res.status === 200) {
      this.fails = 0;
      if (how === "code") return true;
      if (how === "totp") {
        this.totpFails = 0;
        const step = res.rec.tag?.step ?? -1;
        this.lastStep = Math.max(this.lastStep, step);
        this.spentTotp.push({ step, code: res.rec.tag?.code ?? "" });
      } else {
        this.spentRecovery.push(res.rec.tag?.code ?? "");
      }
      return true;
    }
    if (res.status !== 0) {
      this.fails++;
      if (how === "totp") this.totpFails++;
    }
    return false;
  }

  /** A step-up through the JSON API: opened on one process, verified on another, TOTP or a recovery code. */
  private async stepUp(
    jar: Jar,
    preferTotp: boolean,
    challenge?: { id: string; recoveryId: string; proc: number },
    txn?: string,
  ): Promise<boolean> {
    const step = this.usableStep();
    const useTotp = step !== undefined && (preferTotp || this.codes.length === 0);
    if (!useTotp && this.codes.length === 0) return false;
    jar.moveIfNeeded(1);
    const openedOn = challenge?.proc ?? this.proc();
    const opened = challenge ?? (await this.open(jar, openedOn));
    if (!opened) return false;
    const p = this.other(openedOn);
    let ok: boolean;
    if (useTotp && step !== undefined) {
      const code = await codeFor(this.secret, step * STEP_MS);
      ok = this.settle(await this.verifyTotp("verify-totp", jar, p, opened.id, step, code, txn), "totp");
    } else {
      const code = this.codes.shift() as string;
      ok = this.settle(await this.verifyRecovery("verify-recovery", jar, p, opened, code, txn), "recovery");
    }
    this.count(
      `step-up opened on ${this.adapter(openedOn)}, verified on ${this.adapter(p)}: ${ok ? "accepted" : "refused"}`,
    );
    return ok;
  }

  private adapter(proc: number): string {
    return this.run.adapters[proc] ?? "?";
  }

  /**
   * Presses send (the user's code factor) on a challenge, on process `proc`; the message it sent. A
   * refusal (429 rate_limited once the account's, the destination's or, for SMS, the calling code's
   * hour of sends is spent) is an answer the library owes, not a failure: recorded, and this account
   * sends no more codes.
   */
  private async sendCode(challengeId: string, proc: number): Promise<CodeMessage | undefined> {
    const channel = this.channel as Channel;
    const t0 = nowMs();
    const res = await this.main.send(
      `send-${channel}`,
      this.id,
      proc,
      "POST",
      `/stepup/api/challenges/${challengeId}/start`,
      { factor: channel },
      { challenge: challengeId, to: this.destination },
    );
    if (res.status === 429) {
      this.codeLimited = true;
      this.count(`${channel} send: 429 rate_limited`);
    }
    if (res.status !== 200) return undefined;
    return this.received(t0);
  }

  /** Sends the code of `message` (sent for `sentFor`) as the answer to `challengeId`, on `proc`. */
  private verifyCode(
    action: "verify" | "replay" | "cross",
    proc: number,
    challengeId: string,
    message: CodeMessage,
    sentFor: string,
    txn?: string,
  ): Promise<Answer> {
    const channel = this.channel as Channel;
    return this.main.send(
      `${action}-${channel}`,
      this.id,
      proc,
      "POST",
      `/stepup/api/challenges/${challengeId}/verify`,
      { factor: channel, code: message.code },
      {
        code: message.code,
        message: this.messageId(message),
        sentFor,
        challenge: challengeId,
        ...(txn ? { txn } : {}),
      },
    );
  }

  /** Whether a code action can run (`attempts` guesses, `sends` codes sent); moves address if needed. */
  private canSendCode(attempts: number, sends: number): boolean {
    if (this.codeFactorId === "" || this.codeLimited || this.fails + attempts > 8) return false;
    this.main.moveIfNeeded(attempts, sends);
    return true;
  }

  /**
   * A step-up with the user's code factor: the challenge opened on one process (or `challenge`,
   * opened already), its code sent from another, verified on a third (bound to `txn`, when given).
   * Undefined when it cannot run; else whether it was accepted.
   */
  private async codeStepUp(
    challenge?: { id: string; recoveryId: string; proc: number },
    txn?: string,
  ): Promise<boolean | undefined> {
    if (!this.canSendCode(1, 1)) return undefined;
    const procs = this.procs(this.run.origins.length);
    const [a = this.proc(), b = this.proc(), c = this.proc()] = challenge
      ? [challenge.proc, ...procs.filter((x) => x !== challenge.proc)]
      : procs;
    const opened = challenge ?? (await this.open(this.main, a));
    if (!opened) return undefined;
    const message = await this.sendCode(opened.id, b);
    if (!message) return false;
    const ok = this.settle(await this.verifyCode("verify", c, opened.id, message, opened.id, txn), "code");
    const outcome = ok ? "accepted" : "refused";
    this.count(`${this.channel} step-up: ${outcome}`);
    const where = [a, b, c].map((x) => this.adapter(x));
    this.count(
      `${this.channel} step-up opened on ${where[0]}, sent on ${where[1]}, verified on ${where[2]}: ${outcome}`,
    );
    return ok;
  }

  /** One correct code sent to 2-3 processes at once, on the challenge it was sent for: one wins. */
  private async codeReplay(): Promise<boolean> {
    const k = Math.min(2 + Math.floor(this.run.random() * 2), this.run.origins.length);
    if (!this.canSendCode(k, 1)) return false;
    const p = this.proc();
    const opened = await this.open(this.main, p);
    if (!opened) return false;
    const message = await this.sendCode(opened.id, this.other(p));
    if (!message) return true;
    const answers = await Promise.all(
      this.procs(k).map((q) => this.verifyCode("replay", q, opened.id, message, opened.id)),
    );
    let accepted = 0;
    for (const a of answers) if (this.settle(a, "code")) accepted++;
    if (accepted > 0) this.fails = 0;
    this.count(`replay-${this.channel} x${k} (one challenge): ${accepted} accepted`);
    return true;
  }

  /**
   * Two challenges, each with its own code sent: the code of A tried on B (refused), then B's own
   * code on B (accepted).
   */
  private async codeCross(): Promise<boolean> {
    if (!this.canSendCode(2, 2)) return false;
    const p = this.proc();
    const a = await this.open(this.main, p);
    if (!a) return false;
    const messageA = await this.sendCode(a.id, this.other(p));
    if (!messageA) return true;
    const q = this.proc();
    const b = await this.open(this.main, q);
    if (!b) return true;
    const messageB = await this.sendCode(b.id, this.other(q));
    if (!messageB) return true;
    // One time in a million both challenges draw the same code: then A's code is B's, and proves nothing.
    if (messageA.code !== messageB.code) {
      const crossed = this.settle(await this.verifyCode("cross", this.proc(), b.id, messageA, a.id), "code");
      this.count(`${this.channel} code of challenge A tried on B: ${crossed ? "ACCEPTED" : "refused"}`);
    }
    const ok = this.settle(await this.verifyCode("verify", this.proc(), b.id, messageB, b.id), "code");
    this.count(`${this.channel} step-up after a crossed code: ${ok ? "accepted" : "refused"}`);
    return true;
  }

  private async guard(jar: Jar = this.main): Promise<void> {
    await jar.send("guard", this.id, this.proc(), "GET", this.pick(GUARDED));
  }

  /** Wrong codes (TOTP or recovery), kept under the library's limits. */
  private async wrong(): Promise<boolean> {
    if (this.fails > 5 || this.totpFails > 12) return false;
    this.main.moveIfNeeded(1);
    const p = this.proc();
    const opened = await this.open(this.main, p);
    if (!opened) return false;
    const q = this.other(p);
    if (this.run.random() < 0.6) {
      const code = await wrongCode(this.secret);
      this.settle(await this.verifyTotp("verify-wrong", this.main, q, opened.id, -1, code), "totp");
    } else {
      const bytes = Array.from(
        { length: 16 },
        () => "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[Math.floor(this.run.random() * 32)],
      );
      const code = bytes.join("").replace(/(.{4})(?!$)/g, "$1-");
      this.settle(await this.verifyRecovery("verify-wrong", this.main, q, opened, code), "recovery");
    }
    return true;
  }

  /**
   * The same correct code to 2-4 processes at once: each on its own challenge (some from the second
   * device, its own session), or all on one challenge. At most one may be accepted.
   */
  private async replay(what: "totp" | "recovery"): Promise<boolean> {
    const k = 2 + Math.floor(this.run.random() * (this.run.origins.length - 1));
    if (this.fails + k > 8 || (what === "totp" && this.totpFails + k > 14)) return false;
    const step = what === "totp" ? this.usableStep() : undefined;
    if (what === "totp" && step === undefined) return false;
    if (what === "recovery" && this.codes.length === 0) return false;
    const procs = this.procs(k);
    const oneChallenge = this.run.random() < 0.3;
    const senders: { jar: Jar; challenge: { id: string; recoveryId: string } }[] = [];
    for (const [i, p] of procs.entries()) {
      const jar = !oneChallenge && i > 0 && this.run.random() < 0.5 ? this.second : this.main;
      jar.moveIfNeeded(k);
      const reuse = oneChallenge ? senders[0]?.challenge : undefined;
      const challenge = reuse ?? (await this.open(jar, p));
      if (!challenge) return false;
      senders.push({ jar, challenge });
    }
    const code =
      what === "totp"
        ? await codeFor(this.secret, (step as number) * STEP_MS)
        : (this.codes.shift() as string);
    const answers = await Promise.all(
      senders.map(({ jar, challenge }, i) =>
        what === "totp"
          ? this.verifyTotp("replay-totp", jar, procs[i] as number, challenge.id, step as number, code)
          : this.verifyRecovery("replay-recovery", jar, procs[i] as number, challenge, code),
      ),
    );
    let accepted = 0;
    for (const a of answers) if (this.settle(a, what)) accepted++;
    // settle() counted the refusals as failures; a success among them reset the server's counters.
    if (accepted > 0) {
      this.fails = 0;
      if (what === "totp") this.totpFails = 0;
    }
    this.count(`replay-${what} x${k}${oneChallenge ? " (one challenge)" : ""}: ${accepted} accepted`);
    return true;
  }

  /** A code accepted before, sent again (sequentially): refused. */
  private async replayOld(): Promise<boolean> {
    if (this.fails > 5 || this.totpFails > 12) return false;
    const totp = this.spentTotp.length > 0 && (this.spentRecovery.length === 0 || this.run.random() < 0.5);
    if (!totp && this.spentRecovery.length === 0) return false;
    this.main.moveIfNeeded(1);
    const p = this.proc();
    const opened = await this.open(this.main, p);
    if (!opened) return false;
    if (totp) {
      const old = this.pick(this.spentTotp);
      this.settle(
        await this.verifyTotp("replay-old", this.main, this.other(p), opened.id, old.step, old.code),
        "totp",
      );
    } else {
      const code = this.pick(this.spentRecovery);
      this.settle(
        await this.verifyRecovery("replay-old", this.main, this.other(p), opened, code),
        "recovery",
      );
    }
    return true;
  }

  /**
   * A transfer: refused, stepped up for that transaction (TOTP or a recovery code, or with `code`,
   * the user's email or SMS factor), then sent to 2-3 processes at once (pays once).
   */
  private async transfer(code = false): Promise<boolean> {
    if (!code && this.usableStep() === undefined && this.codes.length === 0) return false;
    const txn = `u${this.id}t${++this.transfers}`;
    const body = { amount: 1 + Math.floor(this.run.random() * 900), to: txn };
    const p = this.proc();
    const first = await this.main.send("transfer", this.id, p, "POST", "/transfer", body, { txn });
    if (first.status !== 401 || first.json.error !== "step_up_required") return true;
    const challenge = this.challengeOf(first);
    if (!challenge) return true;
    const opened = { ...challenge, proc: p };
    const stepped = code
      ? await this.codeStepUp(opened, txn)
      : await this.stepUp(this.main, this.run.random() < 0.5, opened, txn);
    if (!stepped) return true;
    const k = 2 + Math.floor(this.run.random() * 2);
    const answers = await Promise.all(
      this.procs(k).map((q) => this.main.send("transfer", this.id, q, "POST", "/transfer", body, { txn })),
    );
    const how = code ? ` ${this.channel}` : "";
    this.count(
      `transfer x${k} after one${how} step-up: ${answers.filter((a) => a.status === 200).length} paid`,
    );
    return true;
  }

  /** Logout; the cookies copied before it must open nothing after it; then log in again. */
  private async logout(): Promise<void> {
    const copy = this.main.clone();
    const out = await this.main.send("logout", this.id, this.proc(), "POST", "/logout", {});
    this.main.epoch++;
    if (out.status === 200) {
      for (let i = 0; i < 2; i++)
        await copy.send("guard-after-logout", this.id, this.proc(), "GET", this.pick(GUARDED));
    }
    copy.close();
    await this.main.send("login", this.id, this.proc(), "POST", "/login", {
      email: this.email,
      password: PASSWORD,
    });
  }

  /**
   * New recovery codes (needs a step-up in the last 5 minutes; one is done when asked). Sometimes
   * two processes at once: a user then holds one set of codes, never both.
   */
  private async regenerate(): Promise<boolean> {
    const twice = this.run.random() < 0.2;
    const p = this.proc();
    let res = await this.main.send("regen", this.id, p, "POST", "/stepup/api/recovery-codes", {});
    if (res.status === 401 && res.json.error === "step_up_required") {
      const challenge = this.challengeOf(res);
      if (!challenge || !(await this.stepUp(this.main, true, { ...challenge, proc: p }))) return true;
      res = await this.main.send("regen", this.id, this.other(p), "POST", "/stepup/api/recovery-codes", {});
    }
    if (res.status !== 201) return true;
    this.takeCodes(res, this.gen + 1);
    if (!twice) return true;
    const pair = await Promise.all(
      this.procs(2).map((q) => this.main.send("regen", this.id, q, "POST", "/stepup/api/recovery-codes", {})),
    );
    this.count(`regen x2 at once: ${pair.map((x) => x.status).join(" and ")}`);
    const issued = pair.filter((x) => x.status === 201);
    const sets = issued.map((x, i) => {
      this.takeCodes(x, this.gen + 1 + i);
      return this.codes;
    });
    const listed = await this.main.send("factors", this.id, this.proc(), "GET", "/stepup/api/factors");
    const remaining = Number(listed.json.recoveryCodesRemaining);
    if (listed.status === 200 && remaining > RECOVERY_COUNT)
      this.run.overIssued.push(
        `user ${this.id}: ${remaining} recovery codes after two regenerations at once`,
      );
    if (sets.length < 2) return true;
    // Both issued (one after the other, or at once): which set lives? Try a code of each (the
    // invariant check flags both accepted).
    this.codes = [];
    let live: string[] = [];
    for (const set of sets) if (await this.stepUpWith(set[0] as string)) live = set.slice(1);
    this.codes = live;
    return true;
  }

  private async stepUpWith(code: string): Promise<boolean> {
    this.main.moveIfNeeded(1);
    const p = this.proc();
    const opened = await this.open(this.main, p);
    if (!opened) return false;
    return this.settle(
      await this.verifyRecovery("verify-recovery", this.main, this.other(p), opened, code),
      "recovery",
    );
  }

  private async freshJar(): Promise<void> {
    const jar = new Jar(this.run, false);
    await jar.send("guard-fresh-jar", 0, this.proc(), "GET", this.pick(GUARDED));
    jar.close();
  }

  private async listFactors(): Promise<void> {
    const res = await this.main.send("factors", this.id, this.proc(), "GET", "/stepup/api/factors");
    const remaining = Number(res.json.recoveryCodesRemaining);
    if (res.status === 200 && remaining > RECOVERY_COUNT)
      this.run.overIssued.push(`user ${this.id}: ${remaining} recovery codes`);
  }

  /** One action of the mix. */
  private async act(): Promise<void> {
    if (this.codes.length <= 3 && this.run.random() < 0.5) {
      this.count("regen");
      await this.regenerate();
      return;
    }
    const r = this.run.random() * 100;
    let done = true;
    // The code actions take 18 of the 30 guarded-route points of an email or SMS user (a third of
    // the users each): 6% of the whole mix for each channel, 18% of what such a user does.
    if (r < 30 && this.channel && r < 18) {
      if (r < 9) done = (await this.codeStepUp()) !== undefined;
      else if (r < 15) done = await this.codeReplay();
      else done = await this.codeCross();
    } else if (r < 30) await this.guard(this.run.random() < 0.85 ? this.main : this.second);
    else if (r < 40) done = await this.stepUp(this.main, true);
    else if (r < 47) done = await this.stepUp(this.run.random() < 0.7 ? this.main : this.second, false);
    else if (r < 52) done = await this.wrong();
    else if (r < 58) done = await this.replay("totp");
    else if (r < 64) done = await this.replay("recovery");
    else if (r < 68) done = await this.replayOld();
    else if (r < 78) done = await this.transfer();
    else if (r < 82) await this.logout();
    else if (r < 86) await this.freshJar();
    else if (r < 89) await this.listFactors();
    else if (r < 90.5 && this.run.accounts < this.run.maxAccounts) {
      this.count("new account");
      done = await this.enrol();
    } else await this.guard();
    if (!done) await this.guard();
  }

  async live(): Promise<void> {
    let enrolled = false;
    while (this.timeLeft() && !enrolled) enrolled = await this.enrol();
    // The first thing an email or SMS user does with its new factor (part of its enrolment, even
    // past the deadline): an email user steps up with it, then calls a guarded route; an SMS user
    // pays a transfer stepped up with it (the code bound to the transaction). A run that enrols
    // either also uses it, and pays a transfer, however slow the machine.
    if (enrolled && this.channel === "email" && (await this.codeStepUp()) !== undefined) await this.guard();
    if (enrolled && this.channel === "sms") await this.transfer(true);
    // And every other TOTP-only user sends one of its new recovery codes to 2-4 processes at once
    // first: on a slow machine the mix alone may reach no concurrent replay in a short run (a
    // fresh-clone CI run on a contended host had none in 12 s), and the run must show one refused.
    if (enrolled && this.channel === undefined && this.id % 6 === 2) await this.replay("recovery");
    while (this.timeLeft()) {
      await this.act();
      await new Promise((r) => setTimeout(r, this.run.random() * 20));
    }
    this.main.close();
    this.second.close();
  }
}
