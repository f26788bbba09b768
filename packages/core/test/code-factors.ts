// Test helpers for the code factors (not exported by the package).

import type { StepUpOptions } from "../src/config.js";
import { type EmailMessage, type EmailOptions, email } from "../src/factors/one-time-code/email.js";
import { type SmsOptions, sms } from "../src/factors/one-time-code/sms.js";
import { recoveryCodes } from "../src/factors/recovery-codes.js";
import { alice, done, testEngine } from "./helpers.js";

/** The first 6-digit run of a message: the code. */
export const codeIn = (text: string): string => {
  const found = /\b(\d{6})\b/.exec(text)?.[1];
  if (!found) throw new Error(`no code in: ${text}`);
  return found;
};

/** An engine with email and SMS factors whose senders keep what they send (or fail on demand). */
export function codeEngine(
  options: { email?: Partial<EmailOptions>; sms?: Partial<SmsOptions>; engine?: Partial<StepUpOptions> } = {},
) {
  const mail: EmailMessage[] = [];
  const texts: { phone: string; text: string }[] = [];
  const logs: string[] = [];
  const senders = { failMail: false, failSms: false };
  const t = testEngine({
    factors: [
      email({
        send: async (m) => {
          if (senders.failMail) throw new Error(`SMTP 550 rejected: ${m.text}`);
          mail.push(m);
        },
        ...options.email,
      } as EmailOptions),
      sms({
        send: async (phone, text) => {
          if (senders.failSms) throw new Error(`provider rejected ${text}`);
          texts.push({ phone, text });
        },
        ...options.sms,
      } as SmsOptions),
      recoveryCodes(),
    ],
    logger: {
      warn: (m, meta) => void logs.push(`${m} ${JSON.stringify(meta ?? {})}`),
      error: (m, meta) => void logs.push(`${m} ${JSON.stringify(meta ?? {})}`),
    },
    ...options.engine,
  });
  /** The code of the last message sent (email or SMS, whichever came last). */
  const lastMail = () => {
    const m = mail.at(-1);
    if (!m) throw new Error("no mail sent");
    return m;
  };
  return { ...t, mail, texts, logs, senders, lastMail };
}

export type CodeEngine = ReturnType<typeof codeEngine>;

/** Enrolls alice's email as her first factor; returns its id. */
export async function enrollEmail(t: CodeEngine, ip?: string): Promise<string> {
  const started = done(await t.engine.factors.enrollStart(alice, "email", {}, undefined, ip)) as {
    factorId: string;
  };
  done(
    await t.engine.factors.enrollConfirm(
      alice,
      "email",
      started.factorId,
      { code: codeIn(t.lastMail().text) },
      undefined,
    ),
  );
  return started.factorId;
}

/** Opens a challenge for alice in session "s". */
export async function openFor(t: CodeEngine, sid = "s") {
  return (await t.engine.openChallenge(alice, sid, t.engine.rules.lookup("account", "delete"))).challenge;
}
