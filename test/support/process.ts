import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** Collects a child's output and stops it (SIGTERM, then SIGKILL after a grace period). */
export function supervise(child: ChildProcess, graceMs = 3_000): { output(): string; stop(): Promise<void> } {
  let output = "";
  const collect = (d: Buffer): void => {
    output += d.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return {
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const DEMO_SERVER = fileURLToPath(new URL("../../examples/express/dist/server.js", import.meta.url));

/** The Next demo's start script (examples/next/scripts/start.mjs): it checks the environment first. */
export const NEXT_START = fileURLToPath(new URL("../../examples/next/scripts/start.mjs", import.meta.url));

/**
 * Runs a start command (`DEMO_SERVER`, `NEXT_START`) with `env` on top of the test's environment
 * (NODE_ENV=test, PORT=0, the given secrets) and waits for it to exit (killed after 10 s): its exit
 * code and output. For start-up checks that must refuse a bad variable.
 */
export async function startFails(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [command], {
    env: { ...process.env, NODE_ENV: "test", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);
  const timer = setTimeout(() => void supervised.stop(), 10_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, output: supervised.output() };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A demo server process (examples/express/dist/server.js) that a test owns. */
export interface DemoProcess {
  readonly origin: string;
  readonly child: ChildProcess;
  /** Output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a server on a port found free, again (three tries in all) when the port was taken before
 * the server bound it: `freePort` closes its probe, and in that moment another process starting
 * alongside (a test file in parallel, an inspector's ephemeral port) can take it. Only that
 * failure (`EADDRINUSE`, the demos' "already in use") is retried.
 */
export async function startRetrying<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !/already in use|EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

/** Starts `node examples/express/dist/server.js` on a free port and waits until it listens. */
export function spawnDemo(env: Record<string, string>, timeoutMs = 15_000): Promise<DemoProcess> {
  if (!existsSync(DEMO_SERVER)) {
    throw new Error(
      `${DEMO_SERVER} is missing: build first (pnpm turbo run build --filter @stepup/example-express...)`,
    );
  }
  return startRetrying(async () => spawnDemoOn(await freePort(), env, timeoutMs));
}

async function spawnDemoOn(
  port: number,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<DemoProcess> {
  const child = spawn(process.execPath, [DEMO_SERVER], {
    env: { ...process.env, NODE_ENV: "test", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);
  const { stop } = supervised;
  const deadline = Date.now() + timeoutMs;
  while (!supervised.output().includes("stepup demo on")) {
    if (child.exitCode !== null)
      throw new Error(`demo exited with ${child.exitCode}:\n${supervised.output()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`demo did not start within ${timeoutMs} ms:\n${supervised.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { origin: `http://127.0.0.1:${port}`, child, output: supervised.output, stop };
}

/**
 * A browser-like client over fetch: one cookie jar shared by every origin it talks to (cookies are
 * not port-scoped, so two demo processes on one host see the same cookies), `Origin` set to the
 * target's origin, redirects not followed.
 */
export class Browser {
  readonly jar = new Map<string, string>();

  /** Each request's own deadline, in ms: a server that hangs fails the test instead of stalling it. */
  readonly timeoutMs: number;

  constructor(timeoutMs = 10_000) {
    this.timeoutMs = timeoutMs;
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request(
    origin: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(`${origin}${path}`, {
      method,
      redirect: "manual",
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: {
        origin,
        accept: "application/json",
        ...(this.jar.size > 0 ? { cookie: this.cookieHeader() } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === "" || /;\s*max-age=0\b/i.test(c) || /expires=Thu, 01 Jan 1970/i.test(c))
        this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {}
    return { status: res.status, headers: res.headers, text, json };
  }

  get = (origin: string, path: string) => this.request(origin, "GET", path);
  post = (origin: string, path: string, body: unknown = {}) => this.request(origin, "POST", path, body);

  /** A copy of this browser (same cookies), e.g. to replay them after a logout. */
  clone(): Browser {
    const copy = new Browser(this.timeoutMs);
    for (const [k, v] of this.jar) copy.jar.set(k, v);
    return copy;
  }
}
