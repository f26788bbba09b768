// A real HTTP webhook for tests (node:http on 127.0.0.1): what the demos' SMS factor POSTs to
// SMS_WEBHOOK_URL, `{ "to": "+15551234567", "text": "..." }`, arrives here as it would at a gateway.
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { firstCode } from "./smtp.js";

/** One text message as the webhook received it. */
export interface CapturedSms {
  to: string;
  text: string;
  /** The first run of exactly 6 digits in the text ("" when there is none). */
  code: string;
  /** When the body's last byte arrived (ms since the epoch, sub-millisecond). */
  receivedAtMs: number;
}

/** One request of any shape, as received (method, path, headers, raw body). */
export interface WebhookRequest {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

/** `ok` answers 204; `fail` answers 500 (and keeps the message in `failed`); `hang` never answers. */
export type SmsMode = "ok" | "fail" | "hang";

export interface SmsReceiver {
  /** `http://127.0.0.1:<port>/sms`, for SMS_WEBHOOK_URL. */
  readonly url: string;
  mode: SmsMode;
  /** Every request, accepted or not (to assert that none was made). */
  readonly requests: readonly WebhookRequest[];
  /** Messages answered 2xx, in arrival order. */
  readonly messages: readonly CapturedSms[];
  /** Messages answered 500 (their codes must never work). */
  readonly failed: readonly CapturedSms[];
  /**
   * The next accepted message to `to` (that `match` accepts, when given) that no earlier call
   * returned, waiting up to `timeoutMs` (default 5 s) for it.
   */
  waitForSms(
    to: string,
    options?: { timeoutMs?: number; match?: (sms: CapturedSms) => boolean },
  ): Promise<CapturedSms>;
  smsTo(to: string): CapturedSms[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the capturing webhook on a free loopback port. */
export async function startSmsReceiver(options: { mode?: SmsMode } = {}): Promise<SmsReceiver> {
  const requests: WebhookRequest[] = [];
  const messages: CapturedSms[] = [];
  const failed: CapturedSms[] = [];
  const taken = new Set<CapturedSms>();
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const state = { mode: options.mode ?? ("ok" as SmsMode) };

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const receivedAtMs = performance.timeOrigin + performance.now();
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        contentType: String(req.headers["content-type"] ?? ""),
        body,
      });
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {}
      const { to, text } = (parsed ?? {}) as { to?: unknown; text?: unknown };
      if (req.method !== "POST" || typeof to !== "string" || typeof text !== "string") {
        res.writeHead(400, { "content-type": "text/plain" }).end("expected POST {to, text}");
        return;
      }
      const sms: CapturedSms = { to, text, code: firstCode(text), receivedAtMs };
      if (state.mode === "fail") {
        failed.push(sms);
        res.writeHead(500, { "content-type": "text/plain" }).end("gateway down (test)");
        return;
      }
      if (state.mode === "hang") {
        hanging.add(res);
        return;
      }
      messages.push(sms);
      res.writeHead(204).end();
      for (const w of waiters) w();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  const smsTo = (to: string) => messages.filter((m) => m.to === to);

  return {
    url: `http://127.0.0.1:${port}/sms`,
    get mode() {
      return state.mode;
    },
    set mode(mode: SmsMode) {
      state.mode = mode;
    },
    requests,
    messages,
    failed,
    smsTo,
    waitForSms(to, { timeoutMs = 5_000, match = () => true } = {}) {
      return new Promise<CapturedSms>((resolve, reject) => {
        const timer = setTimeout(() => {
          finish();
          const seen = messages.map((m) => m.to).join(", ") || "none";
          reject(new Error(`no SMS to ${to} within ${timeoutMs} ms (received for: ${seen})`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = () => {
          const sms = smsTo(to).find((m) => !taken.has(m) && match(m));
          if (!sms) return;
          taken.add(sms);
          finish();
          resolve(sms);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
