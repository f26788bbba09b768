// A real SMTP server for tests (smtp-server on 127.0.0.1, messages parsed by mailparser): what the
// demos' email factor sends through SMTP_URL arrives here over TCP, exactly as it would at a relay.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";

/** One message as the server received it. */
export interface CapturedMail {
  /** The envelope recipient (RCPT TO), lower-cased. */
  to: string;
  /** Every envelope recipient (RCPT TO), as given: one, unless a header injection added some. */
  recipients: string[];
  /** The To, Cc and Bcc headers as parsed ("" when absent). */
  toHeader: string;
  ccHeader: string;
  bccHeader: string;
  /** The envelope sender (MAIL FROM). */
  from: string;
  /** The From header as sent. */
  fromHeader: string;
  subject: string;
  text: string;
  /** The HTML part ("" when the message had none). */
  html: string;
  /** The first run of exactly 6 digits in the text part ("" when there is none). */
  code: string;
  /** When the last byte of DATA arrived (ms since the epoch, sub-millisecond). */
  receivedAtMs: number;
}

/**
 * What the server does with DATA: `accept` it (250), `reject` it (550, after reading the message,
 * which is kept in `rejected`), or `hang` (read it, keep it in `held`, never answer).
 */
export type SmtpMode = "accept" | "reject" | "hang";

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  readonly url: string;
  readonly port: number;
  /** Changes how the next messages are answered. */
  mode: SmtpMode;
  /** Every accepted message, in arrival order. */
  readonly messages: readonly CapturedMail[];
  /** Messages answered with 550 (their codes must never work). */
  readonly rejected: readonly CapturedMail[];
  /** Messages never answered (mode `hang`). */
  readonly held: readonly CapturedMail[];
  /**
   * The next accepted message to `to` (that `match` accepts, when given) that no earlier call
   * returned, waiting up to `timeoutMs` (default 5 s) for it.
   */
  waitForMail(
    to: string,
    options?: { timeoutMs?: number; match?: (mail: CapturedMail) => boolean },
  ): Promise<CapturedMail>;
  /** Every accepted message to `to` so far. */
  mailTo(to: string): CapturedMail[];
  close(): Promise<void>;
}

const CODE = /(?<!\d)\d{6}(?!\d)/;

export function firstCode(text: string): string {
  return CODE.exec(text)?.[0] ?? "";
}

/** Starts a capturing SMTP server on a free loopback port (no TLS, no auth). */
export async function startSmtpCapture(options: { mode?: SmtpMode } = {}): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const rejected: CapturedMail[] = [];
  const held: CapturedMail[] = [];
  const taken = new Set<CapturedMail>();
  const waiters = new Set<() => void>();
  /** The callbacks of hung messages, released (with an error) on close. */
  const hanging = new Set<(err?: Error | null) => void>();

  const notify = () => {
    for (const w of waiters) w();
  };

  async function capture(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<CapturedMail> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const receivedAtMs = performance.timeOrigin + performance.now();
    const parsed = await simpleParser(Buffer.concat(chunks));
    const text = parsed.text ?? "";
    const rcpt = session.envelope.rcptTo[0]?.address ?? "";
    const mailFrom = session.envelope.mailFrom;
    const header = (v: typeof parsed.to) =>
      v === undefined
        ? ""
        : [v]
            .flat()
            .map((a) => a.text)
            .join(", ");
    return {
      to: rcpt.toLowerCase(),
      recipients: session.envelope.rcptTo.map((r) => r.address),
      toHeader: header(parsed.to),
      ccHeader: header(parsed.cc),
      bccHeader: header(parsed.bcc),
      from: mailFrom ? mailFrom.address : "",
      fromHeader: parsed.from?.text ?? "",
      subject: parsed.subject ?? "",
      text,
      html: typeof parsed.html === "string" ? parsed.html : "",
      code: firstCode(text),
      receivedAtMs,
    };
  }

  const state = { mode: options.mode ?? ("accept" as SmtpMode) };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // No reverse DNS per connection. (smtp-server still waits 100 ms before its greeting, to catch
    // early talkers, as real MTAs do: that is most of a loopback delivery's time.)
    disableReverseLookup: true,
    // A hung message holds its connection open: close() must not wait 30 s for it.
    closeTimeout: 200,
    onData(stream, session, callback) {
      const mode = state.mode;
      capture(stream, session).then(
        (mail) => {
          if (mode === "reject") {
            rejected.push(mail);
            const error = Object.assign(new Error("Mailbox unavailable (test server rejects DATA)"), {
              responseCode: 550,
            });
            return callback(error);
          }
          if (mode === "hang") {
            held.push(mail);
            hanging.add(callback);
            return;
          }
          messages.push(mail);
          callback(null, "Queued (test capture)");
          notify();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  server.on("error", () => {}); // a client dropping mid-session is not a test failure
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  const port = (server.server.address() as AddressInfo).port;

  const mailTo = (to: string) => messages.filter((m) => m.to === to.toLowerCase());

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    get mode() {
      return state.mode;
    },
    set mode(mode: SmtpMode) {
      state.mode = mode;
    },
    messages,
    rejected,
    held,
    mailTo,
    waitForMail(to, { timeoutMs = 5_000, match = () => true } = {}) {
      return new Promise<CapturedMail>((resolve, reject) => {
        const check = (): boolean => {
          const mail = mailTo(to).find((m) => !taken.has(m) && match(m));
          if (!mail) return false;
          taken.add(mail);
          finish();
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          const seen = messages.map((m) => m.to).join(", ") || "none";
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms (received for: ${seen})`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(onMail);
        };
        const onMail = () => void check();
        waiters.add(onMail);
        check();
      });
    },
    async close() {
      for (const callback of hanging) callback(new Error("test server closing"));
      hanging.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
