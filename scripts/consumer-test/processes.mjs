// The consumer test's child processes: a private redis-server and the consumer app.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";

/** Child processes still running, so a failure or a signal can stop them all. */
export const children = new Set();

function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with code ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
export async function stop(child, timeoutMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** A private redis-server on a free loopback port, persistence off (like packages/testkit). */
export async function startRedis() {
  const port = await freePort();
  const binary = process.env.REDIS_SERVER ?? "redis-server";
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = track(
    spawn(binary, [...args, "--loglevel", "warning"], { stdio: ["ignore", "ignore", "inherit"] }),
  );
  child.once("error", (error) =>
    console.error(`could not start ${binary}: ${error.message} (apt-get install redis-server)`),
  );
  await waitForPort(port, child, 10_000);
  return { url: `redis://127.0.0.1:${port}`, child };
}

/** Starts the consumer app (`node dist/app.js`) and waits for the port it prints. */
export async function startApp(appDir, env) {
  const child = track(
    spawn(process.execPath, ["dist/app.js"], {
      cwd: appDir,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the app printed no port within 10 s:\n${output}`)),
      10_000,
    );
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`the app exited (${code}) before listening:\n${output}`)));
  });
  return { child, port, output: () => output };
}
