import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A redis-server child process that a test owns: it can stop it to test failure and start it again. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL is not used: a clean shutdown closes client sockets at once). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /**
   * Hangs the server (SIGSTOP): connections stay open and commands get no reply, the failure a
   * stopped server cannot show (its clients see a closed socket at once and fail fast).
   */
  pause(): void;
  /** Lets a paused server run again (SIGCONT): it answers what was queued, data intact. */
  resume(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { connect } = await import("node:net");
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * Starts a private `redis-server` on a free loopback port, with persistence off.
 * The binary is `$REDIS_SERVER` or `redis-server` on PATH (Debian's package `redis-server`).
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const binary = process.env.REDIS_SERVER ?? "redis-server";
  let child: ChildProcess | undefined;
  let paused = false;

  const running = (action: string): ChildProcess => {
    if (!child || child.exitCode !== null) throw new Error(`cannot ${action} redis-server: not running`);
    return child;
  };

  const start = async (): Promise<void> => {
    const proc = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    proc.once("error", (error) => {
      // ENOENT: make the missing package obvious rather than a timeout.
      process.stderr.write(`could not start ${binary}: ${error.message} (apt-get install redis-server)\n`);
    });
    child = proc;
    await waitForPort(port, proc, 10_000);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill("SIGTERM");
    // A stopped process only acts on SIGTERM once it runs again.
    if (paused) proc.kill("SIGCONT");
    paused = false;
    await exited;
  };

  const pause = (): void => {
    running("pause").kill("SIGSTOP");
    paused = true;
  };

  const resume = (): void => {
    running("resume").kill("SIGCONT");
    paused = false;
  };

  await start();
  process.once("exit", () => child?.kill("SIGKILL"));
  return { port, url: `redis://127.0.0.1:${port}`, stop, start, pause, resume };
}
