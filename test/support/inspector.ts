// The V8 inspector of another Node process, from a test: a process started with
// `--inspect=127.0.0.1:0` prints "Debugger listening on ws://127.0.0.1:<port>/<id>"; the test sends
// DevTools protocol calls there (e.g. `HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`). Node 20
// has no WebSocket client and none is in the dependency tree, so this is a minimal one over the
// node:http upgrade (RFC 6455): text messages only, client frames masked, fragments joined, pings
// answered.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import type { Socket } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Every inspector address a process's output announced, in order. */
export function inspectorUrls(output: string): string[] {
  return [...output.matchAll(/Debugger listening on (ws:\/\/\S+)/g)].map((m) => m[1] as string);
}

/** One WebSocket frame from the client: FIN, the opcode, masked (RFC 6455 5.2-5.3). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = 0x80 | n;
  else if (n < 65_536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([head, mask, body]);
}

/** A frame read off the front of `buf`, or undefined until all of it has arrived. */
export function readFrame(
  buf: Buffer,
): { fin: boolean; opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const b0 = buf[0] as number;
  const b1 = buf[1] as number;
  let n = b1 & 0x7f;
  let at = 2;
  if (n === 126) {
    if (buf.length < 4) return undefined;
    n = buf.readUInt16BE(2);
    at = 4;
  } else if (n === 127) {
    if (buf.length < 10) return undefined;
    n = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const mask = b1 & 0x80 ? buf.subarray(at, at + 4) : undefined;
  if (mask) at += 4;
  if (buf.length < at + n) return undefined;
  const payload = Buffer.from(buf.subarray(at, at + n));
  if (mask) for (let i = 0; i < n; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload, size: at + n };
}

/** A WebSocket connection that sends and receives text messages. */
export interface TextSocket {
  send(text: string): void;
  /** Closes the connection (a close frame, then the socket). */
  close(): void;
}

/** Opens `url` (ws:// only); `onMessage` gets each text message, `onClose` the end of the connection. */
export function openTextSocket(
  url: string,
  onMessage: (text: string) => void,
  onClose: (reason: string) => void = () => {},
  timeoutMs = 5_000,
): Promise<TextSocket> {
  const target = new URL(url);
  if (target.protocol !== "ws:") return Promise.reject(new Error(`not a ws:// URL: ${url}`));
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1").update(`${key}${GUID}`).digest("base64");
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": key,
      },
      timeout: timeoutMs,
    });
    req.on("timeout", () =>
      req.destroy(new Error(`no WebSocket upgrade from ${url} within ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.on("response", (res) => {
      res.resume();
      reject(new Error(`${url} answered ${res.statusCode} instead of upgrading`));
    });
    req.on("upgrade", (res, socket: Socket, head: Buffer) => {
      if (res.headers["sec-websocket-accept"] !== accept) {
        socket.destroy();
        reject(new Error(`${url}: wrong Sec-WebSocket-Accept`));
        return;
      }
      socket.setTimeout(0);
      let buf = head;
      let parts: Buffer[] = [];
      let closed = false;
      const end = (reason: string) => {
        if (closed) return;
        closed = true;
        socket.destroy();
        onClose(reason);
      };
      socket.on("data", (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (let frame = readFrame(buf); frame; frame = readFrame(buf)) {
          buf = buf.subarray(frame.size);
          if (frame.opcode === 0x8) {
            end("closed by the server");
            return;
          }
          if (frame.opcode === 0x9) socket.write(clientFrame(0xa, frame.payload));
          if (frame.opcode !== 0x1 && frame.opcode !== 0x0) continue; // pong, binary: not ours
          parts.push(frame.payload);
          if (!frame.fin) continue;
          const text = Buffer.concat(parts).toString("utf8");
          parts = [];
          onMessage(text);
        }
      });
      socket.on("close", () => end("connection closed"));
      socket.on("error", (error) => end(error.message));
      resolve({
        send: (text) => {
          if (!closed) socket.write(clientFrame(0x1, Buffer.from(text, "utf8")));
        },
        close: () => {
          if (closed) return;
          socket.end(clientFrame(0x8, Buffer.alloc(0)));
          closed = true;
          onClose("closed by the client");
        },
      });
    });
    req.end();
  });
}

/** A DevTools protocol session with one process's inspector. */
export interface DevTools {
  /** Sends a method and waits for its result (rejects with the protocol's error, or after `timeoutMs`). */
  call<T = Record<string, unknown>>(method: string, params?: object): Promise<T>;
  close(): void;
}

/**
 * Connects to an inspector URL, which must be on loopback (a debugger port runs any code it is
 * sent: never anywhere else).
 */
export async function connectDevTools(url: string, timeoutMs = 10_000): Promise<DevTools> {
  const { hostname } = new URL(url);
  if (hostname !== "127.0.0.1" && hostname !== "[::1]") throw new Error(`inspector not on loopback: ${url}`);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const socket = await openTextSocket(
    url,
    (text) => {
      const msg = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
      const waiting = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!waiting) return; // an event: none is enabled, none is needed
      pending.delete(msg.id as number);
      if (msg.error) waiting.reject(new Error(msg.error.message));
      else waiting.resolve(msg.result);
    },
    (reason) => {
      for (const w of pending.values()) w.reject(new Error(`inspector ${reason}`));
      pending.clear();
    },
    timeoutMs,
  );
  return {
    call<T>(method: string, params: object = {}): Promise<T> {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/** The value of an expression evaluated in the inspected process (`Runtime.evaluate`). */
export async function evaluate(devtools: DevTools, expression: string): Promise<unknown> {
  const { result } = await devtools.call<{ result: { value?: unknown } }>("Runtime.evaluate", {
    expression,
    returnByValue: true,
  });
  return result.value;
}

/** A full collection in the inspected process, then its used V8 heap in MB. */
export async function heapAfterGc(devtools: DevTools): Promise<number> {
  await devtools.call("HeapProfiler.collectGarbage");
  const { usedSize } = await devtools.call<{ usedSize: number }>("Runtime.getHeapUsage");
  return usedSize / 2 ** 20;
}

/**
 * Whether every socket listening on `port` (IPv4 and IPv6, from /proc/net) is bound to loopback;
 * undefined off Linux or when none listens.
 */
export function listensOnLoopbackOnly(port: number): boolean | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const local: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, address, , state] = line.trim().split(/\s+/);
      const [ip, p] = (address ?? "").split(":");
      if (p === hex && state === "0A") local.push(ip ?? "");
    }
  }
  if (local.length === 0) return undefined;
  // 127.0.0.0/8 (little-endian in /proc/net/tcp: ends in 7F), ::1, and ::ffff:127.x.y.z.
  return local.every(
    (ip) =>
      (ip.length === 8 && ip.endsWith("7F")) ||
      ip === "00000000000000000000000001000000" ||
      (ip.startsWith("0000000000000000FFFF0000") && ip.endsWith("7F")),
  );
}
