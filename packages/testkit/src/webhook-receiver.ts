// A real Standard Webhooks receiver for tests (node:http on 127.0.0.1). Every delivery is checked
// with the reference `standardwebhooks` library against each given secret, as a receiver would.
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One delivery attempt as it arrived. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body, `{ type, timestamp, data }`. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> & { id: string; type: string } };
  /** The secrets (by index in `secrets`) whose signature the reference library accepted. */
  verifiedWith: number[];
  /** What this receiver answered. */
  status: number;
  receivedAtMs: number;
}

/**
 * `ok` answers 204 to a verified delivery (400 to one that fails verification); `fail` 500; `gone`
 * 410; `hang` never answers; `redirect` 307 to `redirectTo`.
 */
export type ReceiverMode = "ok" | "fail" | "gone" | "hang" | "redirect";

export interface WebhookReceiver {
  readonly url: string;
  mode: ReceiverMode;
  /** Where `redirect` points. */
  redirectTo: string;
  /** Milliseconds to wait before answering (to see whether deliveries overlap). */
  delayMs: number;
  /** Every attempt, in arrival order. */
  readonly received: readonly ReceivedWebhook[];
  /** Attempts answered 2xx. */
  accepted(): ReceivedWebhook[];
  /** The most attempts of one webhook-id that were in flight at the same moment. */
  readonly maxInFlightPerId: number;
  /** Waits until `predicate` holds for the attempts so far (default 10 s). */
  waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return typeof value === "string" ? value : "";
};

export async function startWebhookReceiver(secrets: readonly string[]): Promise<WebhookReceiver> {
  const verifiers = secrets.map((s) => new Webhook(s));
  const received: ReceivedWebhook[] = [];
  const inFlight = new Map<string, number>();
  const hung = new Set<() => void>();
  let maxInFlightPerId = 0;
  const state = { mode: "ok" as ReceiverMode, redirectTo: "", delayMs: 0 };

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const id = header(req, "webhook-id");
      const now = (inFlight.get(id) ?? 0) + 1;
      inFlight.set(id, now);
      maxInFlightPerId = Math.max(maxInFlightPerId, now);
      const headers = {
        "webhook-id": id,
        "webhook-timestamp": header(req, "webhook-timestamp"),
        "webhook-signature": header(req, "webhook-signature"),
      };
      const verifiedWith = verifiers.flatMap((v, i) => {
        try {
          v.verify(body, headers);
          return [i];
        } catch {
          return [];
        }
      });
      let payload: ReceivedWebhook["payload"];
      try {
        payload = JSON.parse(body);
      } catch {
        payload = { type: "", timestamp: "", data: { id: "", type: "" } };
      }
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      const mode = state.mode;
      const status =
        mode === "hang"
          ? 0
          : mode === "fail"
            ? 500
            : mode === "gone"
              ? 410
              : mode === "redirect"
                ? 307
                : verifiedWith.length > 0
                  ? 204
                  : 400;
      received.push({
        ...headers,
        id,
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body,
        payload,
        verifiedWith,
        status,
        receivedAtMs: Date.now(),
      });
      const done = () => inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
      if (mode === "hang") {
        // Never answered; the client gives up (its timeout) and the socket closes.
        res.once("close", done);
        hung.add(() => res.destroy());
        return;
      }
      done();
      if (mode === "redirect") res.writeHead(307, { location: state.redirectTo }).end();
      else res.writeHead(status).end();
    })();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    get redirectTo() {
      return state.redirectTo;
    },
    set redirectTo(u) {
      state.redirectTo = u;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms) {
      state.delayMs = ms;
    },
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    get maxInFlightPerId() {
      return maxInFlightPerId;
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > until)
          throw new Error(
            `webhook receiver: condition not met in ${timeoutMs} ms (${received.length} received)`,
          );
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const end of hung) end();
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
