// The load test's HTTP side: cookie jars that each talk from their own loopback address, a bound on
// requests in flight, and a record of every request and its answer (the invariants are checked on
// that record at the end).
import { Agent, request as httpRequest } from "node:http";

/** The channels a one-time code is sent through. */
export type Channel = "email" | "sms";
export const CHANNELS: readonly Channel[] = ["email", "sms"];

/** What a request was for: throughput and outcomes are counted per kind. */
export type Kind =
  | "signup"
  | "login"
  | "logout"
  | "enrol-start"
  | "enrol-confirm"
  | "open"
  | "verify-totp"
  | "verify-recovery"
  | "verify-wrong"
  | "replay-totp"
  | "replay-recovery"
  | "replay-old"
  | "guard"
  | "guard-fresh-jar"
  | "guard-after-logout"
  | "transfer"
  | "regen"
  | "factors"
  | `enrol-${Channel}-start`
  | `enrol-${Channel}-confirm`
  | `send-${Channel}`
  | `verify-${Channel}`
  | `replay-${Channel}`
  | `cross-${Channel}`;

/** Requests that send a code (email or SMS) to a challenge: a verification, a replay, a crossed code. */
export const CODE_VERIFY_KINDS: ReadonlySet<Kind> = new Set<Kind>(
  CHANNELS.flatMap((c) => [`verify-${c}`, `replay-${c}`, `cross-${c}`] as const),
);

export const VERIFY_KINDS: ReadonlySet<Kind> = new Set<Kind>([
  "verify-totp",
  "verify-recovery",
  "verify-wrong",
  "replay-totp",
  "replay-recovery",
  "replay-old",
  ...CODE_VERIFY_KINDS,
]);

/** Requests that send a code (each counts against the client address's 20 sends an hour). */
export const SEND_KINDS: ReadonlySet<Kind> = new Set<Kind>(
  CHANNELS.flatMap((c) => [`enrol-${c}-start`, `send-${c}`] as const),
);

/** One request and its answer. `status` 0: no answer (timeout or socket error, in `error`). */
export interface Rec {
  kind: Kind;
  proc: number;
  path: string;
  status: number;
  /** The problem's `error` code, or the transport error. */
  error: string;
  sendMs: number;
  recvMs: number;
  /** Latency in ms (high resolution). */
  ms: number;
  jar: number;
  /** The jar's session epoch when sent (a logout starts the next one). */
  epoch: number;
  user: number;
  /**
   * What the invariants need: the TOTP step, the recovery code, the transaction; for an email or
   * SMS code, the message it came in (`message`: channel, destination and place in the capture
   * server's list), the challenge (or enrolment) it was sent for (`sentFor`) and the one it was
   * sent to (`challenge`); for a send, the address or number it is for (`to`).
   */
  tag?: {
    step?: number;
    code?: string;
    gen?: number;
    txn?: string;
    message?: string;
    sentFor?: string;
    challenge?: string;
    to?: string;
  };
}

export interface Answer {
  status: number;
  json: Record<string, unknown>;
  rec: Rec;
}

/** At most `max` requests in flight, across every virtual user. */
export class InFlight {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  peak = 0;
  constructor(readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

let nextAddress = 0;
/** A loopback source address of its own (127.16.0.1 onwards): the per-address guessing limit counts each apart. */
export function newLoopbackAddress(): string {
  const n = ++nextAddress;
  return `127.${16 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255 || 1}`;
}

let nextJar = 0;

/**
 * A browser: one cookie jar for every process (cookies are not port-scoped), `Origin` set to the
 * target, redirects not followed, keep-alive connections from its own loopback address.
 */
export class Jar {
  readonly id = ++nextJar;
  readonly cookies = new Map<string, string>();
  epoch = 0;
  /** Verification attempts sent from the current address (the per-address limit is 100 per 15 min). */
  attempts = 0;
  /** Codes sent (email, SMS) on behalf of the current address (the per-address limit is 20 an hour). */
  sends = 0;
  address = newLoopbackAddress();
  private agent = this.newAgent();

  constructor(
    readonly ctx: LoadContext,
    /** Whether answers may set cookies (a "fresh jar" probe never keeps any). */
    readonly keeps = true,
  ) {}

  private newAgent(): Agent {
    return new Agent({ keepAlive: true, maxSockets: 4, localAddress: this.address });
  }

  /**
   * Moves to a new address (a phone changing networks), before a per-address limit is reached:
   * `upcoming` verification attempts, `upcomingSends` codes sent.
   */
  moveIfNeeded(upcoming: number, upcomingSends = 0): void {
    if (this.attempts + upcoming <= 80 && this.sends + upcomingSends <= 20) return;
    this.agent.destroy();
    this.address = newLoopbackAddress();
    this.agent = this.newAgent();
    this.attempts = 0;
    this.sends = 0;
  }

  /** A copy with the same cookies (stolen cookies, used from elsewhere). */
  clone(): Jar {
    const copy = new Jar(this.ctx);
    for (const [k, v] of this.cookies) copy.cookies.set(k, v);
    copy.epoch = this.epoch;
    return copy;
  }

  close(): void {
    this.agent.destroy();
  }

  async send(
    kind: Kind,
    user: number,
    proc: number,
    method: string,
    path: string,
    body?: unknown,
    tag?: Rec["tag"],
  ): Promise<Answer> {
    if (VERIFY_KINDS.has(kind)) this.attempts++;
    if (SEND_KINDS.has(kind)) this.sends++;
    const origin = this.ctx.origins[proc] ?? "";
    const epoch = this.epoch;
    return this.ctx.inFlight.run(async () => {
      const sendMs = Date.now();
      const t0 = performance.now();
      const res = await this.once(origin, method, path, body)
        .catch(async (error: NodeJS.ErrnoException) => {
          // A keep-alive socket the server closed just as it was reused: the server never read the
          // request, so it is sent again (Node's documented pattern). Anything else is an outcome.
          if ((error as { reused?: boolean }).reused && error.code === "ECONNRESET")
            return this.once(origin, method, path, body);
          throw error;
        })
        .catch((error: NodeJS.ErrnoException) => ({
          status: 0,
          text: "",
          setCookies: [] as string[],
          error: error.code ?? error.message,
        }));
      const recvMs = Date.now();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(res.text) as Record<string, unknown>;
      } catch {}
      if (this.keeps) this.store(res.setCookies);
      const rec: Rec = {
        kind,
        proc,
        path,
        status: res.status,
        error: "error" in res ? String(res.error) : typeof json.error === "string" ? json.error : "",
        sendMs,
        recvMs,
        ms: performance.now() - t0,
        jar: this.id,
        epoch,
        user,
        ...(tag ? { tag } : {}),
      };
      this.ctx.records.push(rec);
      return { status: res.status, json, rec };
    });
  }

  private store(setCookies: readonly string[]): void {
    for (const c of setCookies) {
      const [pair = ""] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === "" || /;\s*max-age=0\b/i.test(c) || /expires=Thu, 01 Jan 1970/i.test(c))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private once(
    origin: string,
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ status: number; text: string; setCookies: string[] }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { origin, accept: "application/json" };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${origin}${path}`, { method, headers, agent: this.agent });
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })),
        this.ctx.timeoutMs,
      );
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(Object.assign(error, { reused: req.reusedSocket }));
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        res.on("end", () => {
          clearTimeout(timer);
          const raw = res.headers["set-cookie"];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            setCookies: Array.isArray(raw) ? raw : [],
          });
        });
      });
      req.end(payload);
    });
  }
}

/** What every jar shares. */
export interface LoadContext {
  origins: readonly string[];
  inFlight: InFlight;
  records: Rec[];
  timeoutMs: number;
}
