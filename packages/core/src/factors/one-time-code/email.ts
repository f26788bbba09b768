import { StepUpError } from "../../errors.js";
import type { FactorContext, FactorPlugin, FactorUi } from "../factor.js";
import { type CodeFactorOptions, createCodeFactor } from "./code-factor.js";
import { maskEmail } from "./mask.js";
import {
  type CodeMessageInput,
  defaultCodeEmail,
  defaultNoticeEmail,
  type EmailContent,
  type SecurityNotice,
} from "./messages.js";
import { secondsOption } from "./options.js";
import { resolveSendLimits, type SendLimitOptions } from "./send-limits.js";

/** One email to send: what `send` receives. */
export interface EmailMessage extends EmailContent {
  to: string;
}

/** A nodemailer transport, or anything with its `sendMail`. */
export interface MailTransport {
  sendMail(mail: { from: string; to: string; subject: string; text: string; html: string }): Promise<unknown>;
}

/** The strings of stepup's emails: replace them to translate or rebrand. */
export interface EmailMessages {
  code?(input: CodeMessageInput): EmailContent;
  notice?(notice: SecurityNotice): EmailContent;
}

/** Options of `email()`: give one of `send`, `transport` or `smtp`. */
export interface EmailOptions extends CodeFactorOptions {
  /** Sends one message yourself (any provider). */
  send?: (message: EmailMessage) => Promise<void>;
  /** A nodemailer transport (`nodemailer.createTransport(...)`), used as is. */
  transport?: MailTransport;
  /** An SMTP URL (`smtps://user:pass@smtp.example.com`) or nodemailer SMTP options: stepup makes the transport. */
  smtp?: string | Record<string, unknown>;
  /** The From header, e.g. `"Acme <no-reply@acme.test>"`. Required with `transport` or `smtp`. */
  from?: string;
  messages?: EmailMessages;
  limits?: SendLimitOptions;
}

/** The email factor: a `FactorPlugin` that can also send stepup's security notices. */
export interface EmailFactor extends FactorPlugin {
  readonly type: "email";
  /** Emails a security notice to the user's address (the `notify` default). */
  sendNotice(notice: SecurityNotice): Promise<void>;
}

// A pragmatic address check: delivery is what proves an address, and the code confirms it. But
// what no mail server takes is refused here (400), not sent and failed (503, "try again"): the
// local part is dot-separated atoms (no spaces, brackets, quotes or control characters), the domain
// is host name labels (letters, digits, hyphens; Unicode for international names) with a dot
// before a top-level label of two or more. No control character anywhere: a mailer may drop one
// and send the code to another address than the one enrolled.
const ATOM = '[^\\s\\p{Cc}@<>()[\\]\\\\,;:".]+';
const LABEL = "[\\p{L}\\p{M}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]{0,61}[\\p{L}\\p{M}\\p{N}])?";
const ADDRESS = new RegExp(
  `^(?=[^@]{1,64}@)${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+[\\p{L}\\p{M}][\\p{L}\\p{M}\\p{N}-]*[\\p{L}\\p{M}\\p{N}]$`,
  "u",
);

const UI: FactorUi = Object.freeze<FactorUi>({
  title: "Email",
  prompt: {
    kind: "code",
    label: "Code from the email",
    hint: "Enter the 6-digit code we emailed to {destination}.",
    digits: 6,
    placeholder: "000000",
    send: true,
  },
  enroll: {
    button: "Add email",
    title: "Confirm your email address",
    fields: [
      {
        name: "email",
        label: "Email address",
        type: "email",
        autocomplete: "email",
        required: true,
        fromUser: "email",
      },
    ],
    confirmLabel: "Code from the email",
  },
});

function readAddress(ctx: FactorContext, input: unknown): string {
  const given =
    typeof input === "object" && input !== null ? (input as { email?: unknown }).email : undefined;
  const raw = given ?? ctx.user.email;
  if (typeof raw !== "string" || raw.length > 254 || !ADDRESS.test(raw.trim())) {
    throw new StepUpError("INVALID_INPUT", "`email` must be an email address.", { field: "email" });
  }
  return raw.trim();
}

function sender(options: EmailOptions): (message: EmailMessage) => Promise<void> {
  const ways = [options.send, options.transport, options.smtp].filter((w) => w !== undefined).length;
  if (ways !== 1) throw new TypeError("email: give exactly one of `send`, `transport` or `smtp`");
  if (options.send) {
    if (typeof options.send !== "function") throw new TypeError("email: `send` must be a function");
    return options.send;
  }
  const from = options.from;
  if (typeof from !== "string" || from.trim() === "")
    throw new TypeError(
      'email: `from` is required with `transport` or `smtp` (e.g. "Acme <no-reply@acme.test>")',
    );
  let transport: Promise<MailTransport> | undefined;
  if (options.transport) {
    if (typeof options.transport.sendMail !== "function")
      throw new TypeError("email: `transport` must have a `sendMail` method (a nodemailer transport)");
    transport = Promise.resolve(options.transport);
  } else {
    const smtp = options.smtp;
    if (typeof smtp === "string" && !/^smtps?:\/\//.test(smtp))
      throw new TypeError("email: `smtp` must be an smtp:// or smtps:// URL, or nodemailer SMTP options");
  }
  return async (message) => {
    // nodemailer is loaded on first use: an app without email never loads it.
    transport ??= import("nodemailer").then(
      (m) => m.default.createTransport(options.smtp as string) as unknown as MailTransport,
    );
    await (await transport).sendMail({ from, ...message });
  };
}

/**
 * One-time codes by email, through nodemailer (an SMTP URL or transport) or your own `send`.
 * Codes: 6 digits, 5 minutes by default, bound to the challenge, single use, counted in the
 * guessing limits; sends limited per user, per address and per client address. Also sends
 * stepup's security notices (a factor added or removed, a recovery code used, a lockout) to the
 * signed-in user's email, unless `createStepUp({ notify })` says otherwise.
 *
 * @throws TypeError at construction, naming a bad option (`send`/`transport`/`smtp`, `from`,
 *   `codeTtl`, `sendTimeout`, `limits.*`).
 * @example
 * createStepUp({ ..., factors: [totp(), email({ smtp: process.env.SMTP_URL!, from: "Acme <no-reply@acme.test>" }), recoveryCodes()] })
 */
export function email(options: EmailOptions): EmailFactor {
  const send = sender(options);
  const code = options.messages?.code ?? defaultCodeEmail;
  const notice = options.messages?.notice ?? defaultNoticeEmail;
  const plugin = createCodeFactor({
    type: "email",
    ui: UI,
    amr: Object.freeze(["otp"]),
    codeTtlSeconds: secondsOption("email: `codeTtl`", options.codeTtl, 300, 60, 600),
    sendTimeoutMs: secondsOption("email: `sendTimeout`", options.sendTimeout, 10, 1, 60) * 1000,
    limits: resolveSendLimits("email", options.limits),
    readDestination: readAddress,
    mask: maskEmail,
    deliver: (to, input) => send({ to, ...code(input) }),
    label: "email",
  });
  return Object.freeze({
    ...plugin,
    type: "email" as const,
    async sendNotice(n: SecurityNotice) {
      if (!n.user.email) return;
      await send({ to: n.user.email, ...notice(n) });
    },
  });
}
