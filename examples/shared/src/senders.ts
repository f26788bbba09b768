// Where the demos' one-time codes go (both demos read the same variables):
//   SMTP_URL set         -> email through that SMTP server (nodemailer, in @stepup/core)
//   SMTP_URL unset       -> each message printed on ONE stdout line: [email] to=... subject="..." text="..."
//   SMS_WEBHOOK_URL set  -> POST {"to":"+15551234567","text":"..."} as JSON; a non-2xx is a failed send
//   SMS_WEBHOOK_URL unset-> each message printed on ONE stdout line: [sms] to=... text="..."
// When a variable is set, the code of that channel is never printed.

import type { EmailMessage, EmailOptions, SmsOptions } from "@stepup/core";

/** What the email factor hands a sender. */
export type DemoEmailMessage = EmailMessage;

/** The `from` of the demos' mail. */
export const DEMO_MAIL_FROM = "Stepup demo <no-reply@stepup.test>";

/** How long the SMS webhook may take before the send counts as failed. */
export const SMS_WEBHOOK_TIMEOUT_MS = 10_000;

/** Options for `email(...)` and `sms(...)` (plus what the demo says about them at start). */
export interface DemoSenders {
  /** `{ from, smtp }` with SMTP_URL, else `{ send }` printing each message. */
  email: EmailOptions;
  /** `{ send }`: the webhook with SMS_WEBHOOK_URL, else printing each message. */
  sms: SmsOptions;
  /** One line per channel, for the demo's start-up output (no credentials). */
  notes: string[];
}

/** Where a line goes (stdout by default). */
export type Print = (line: string) => void;

const stdout: Print = (line) => {
  console.log(line);
};

/** A quoted value on one line: JSON string escaping turns newlines into `\n`. */
const quoted = (value: string) => JSON.stringify(value);

/** Prints each message on one line (the development fallback when no SMTP server is configured). */
export function printEmail(print: Print = stdout) {
  return async (message: DemoEmailMessage): Promise<void> => {
    print(`[email] to=${message.to} subject=${quoted(message.subject)} text=${quoted(message.text)}`);
  };
}

/** Prints each text message on one line (the development fallback when no webhook is configured). */
export function printSms(print: Print = stdout) {
  return async (phone: string, text: string): Promise<void> => {
    print(`[sms] to=${phone} text=${quoted(text)}`);
  };
}

/**
 * POSTs `{ to, text }` as JSON to `url`. A non-2xx answer, a network error or no answer within
 * `timeoutMs` throws (the factor answers 503 delivery_failed); the error names neither the number
 * nor the text.
 */
export function webhookSms(url: string, timeoutMs = SMS_WEBHOOK_TIMEOUT_MS) {
  const target = new URL(url);
  return async (phone: string, text: string): Promise<void> => {
    let res: Response;
    try {
      res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ to: phone, text }),
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "unreachable";
      throw new Error(`SMS webhook ${target.host} ${reason}`);
    }
    // Drain the body so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`SMS webhook ${target.host} answered ${res.status}`);
  };
}

/** An URL from the environment, checked: its scheme must be one of `schemes`. */
function urlFrom(name: string, value: string, schemes: readonly string[]): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !schemes.includes(url.protocol))
    throw new Error(
      `demo: ${name} must be a ${schemes.map((s) => `${s}//`).join(" or ")} URL (got "${value.slice(0, 80)}")`,
    );
  return url;
}

/**
 * The demo's code senders, from SMTP_URL and SMS_WEBHOOK_URL (see the top of this file). Throws
 * an Error naming the variable when one is set but not a usable URL.
 */
export function sendersFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  print: Print = stdout,
): DemoSenders {
  const notes: string[] = [];
  let email: DemoSenders["email"];
  if (env.SMTP_URL) {
    const url = urlFrom("SMTP_URL", env.SMTP_URL, ["smtp:", "smtps:"]);
    email = { from: DEMO_MAIL_FROM, smtp: env.SMTP_URL };
    notes.push(`email codes: sent through SMTP at ${url.host} from ${DEMO_MAIL_FROM}`);
  } else {
    email = { send: printEmail(print) };
    notes.push("email codes: printed here as [email] lines (set SMTP_URL to send mail)");
  }
  let sms: DemoSenders["sms"];
  if (env.SMS_WEBHOOK_URL) {
    const url = urlFrom("SMS_WEBHOOK_URL", env.SMS_WEBHOOK_URL, ["http:", "https:"]);
    sms = { send: webhookSms(env.SMS_WEBHOOK_URL) };
    notes.push(`SMS codes: POSTed as JSON {"to","text"} to ${url.origin}${url.pathname}`);
  } else {
    sms = { send: printSms(print) };
    notes.push("SMS codes: printed here as [sms] lines (set SMS_WEBHOOK_URL to POST them)");
  }
  return { email, sms, notes };
}
