// Shared by run.mjs (the benchmark) and profile.mjs (a CPU profile of one scenario's server).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { generate } from "otplib";

export const here = dirname(fileURLToPath(import.meta.url));
export { SCENARIOS } from "./apps.mjs";

// ---- CPU pinning: the server alone on core 1; the load generator (this process) and Redis on core 0.

/** Pins this process to CPU 0 when taskset and a second CPU exist; returns whether servers go to CPU 1. */
export function pinLoadGenerator() {
  if (availableParallelism() < 2) return false;
  if (spawnSync("taskset", ["-c", "1", "true"]).status !== 0) return false;
  // -a: every thread (libuv pool, V8 helpers). Children started later (redis-server) inherit CPU 0.
  const r = spawnSync("taskset", ["-a", "-pc", "0", String(process.pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset on the load generator failed: ${r.stderr}`);
  return true;
}

// ---- Servers

const children = new Set();

/** Starts `server.mjs <scenario>` (on CPU 1 when pinned); resolves once it listens. */
export async function startServer(scenario, redisUrl, { pinned, nodeArgs = [], cwd } = {}) {
  const script = join(here, "server.mjs");
  const node = [process.execPath, ...nodeArgs, script, scenario];
  const [cmd, ...args] = pinned ? ["taskset", "-c", "1", ...node] : node;
  const child = spawn(cmd, args, {
    env: { ...process.env, REDIS_URL: redisUrl, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
    ...(cwd ? { cwd } : {}),
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  exited.then(() => children.delete(child));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${scenario}: server did not start in 15 s`)), 15_000);
    exited.then((code) => reject(new Error(`${scenario}: server exited with code ${code}`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line).port);
      } catch {
        reject(new Error(`${scenario}: unexpected first line ${line}`));
      }
    });
  });
  lines.on("line", (line) => process.stdout.write(`[${scenario}] ${line}\n`));
  return {
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid, // taskset execs node: the same process
    /** SIGTERM, then waits for the exit (a --cpu-prof server writes its profile on the way out). */
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** SIGTERM to every server; resolves once all have exited (stop Redis after: a server still answering would hit a closed socket). */
export function stopAllServers() {
  const exited = [...children].map((child) =>
    child.exitCode !== null || child.signalCode !== null
      ? undefined
      : new Promise((resolve) => child.once("exit", resolve)),
  );
  for (const child of children) child.kill("SIGTERM");
  return Promise.all(exited);
}
process.once("exit", stopAllServers);

// ---- Setup over HTTP: each scenario's own login (and step-up), as a client would do it.

class Jar {
  cookies = new Map();
  take(response) {
    for (const c of response.headers.getSetCookie()) {
      const pair = c.split(";")[0];
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function call(origin, jar, method, path, body, expected = 200) {
  const headers = { accept: "application/json", origin };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(origin + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  jar.take(response);
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${response.status}: ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** Enrolls TOTP and steps up for admin:read through the JSON API; the jar ends with the rotated cookie. */
async function stepUpThroughApi(origin, jar) {
  const enroll = await call(origin, jar, "POST", "/stepup/api/factors/totp", {}, 201);
  const nowS = () => Math.floor(Date.now() / 1000);
  // Confirm with the previous step's code, verify with the current one: a step is accepted once.
  const confirmCode = await generate({ secret: enroll.secret, epoch: nowS() - 30 });
  await call(origin, jar, "POST", `/stepup/api/factors/totp/${enroll.factorId}/confirm`, {
    code: confirmCode,
  });
  const pair = { resource: "admin", action: "read" };
  const challenge = await call(origin, jar, "POST", "/stepup/api/challenges", pair, 201);
  const code = await generate({ secret: enroll.secret, epoch: nowS() });
  const verified = await call(origin, jar, "POST", `/stepup/api/challenges/${challenge.challengeId}/verify`, {
    factor: "totp",
    code,
  });
  if (verified.success !== true) throw new Error(`step-up failed: ${JSON.stringify(verified)}`);
  return verified.sid;
}

/**
 * Signs in (and steps up) as the scenario needs, checks that the guard refuses what it must, and
 * that the measured request answers 200. Returns the Cookie header the load sends, and the step-up
 * session id when there is one.
 */
export async function prepare(scenario, origin) {
  const jar = new Jar();
  const user = `alice-${scenario}`; // one user per scenario: the servers share one Redis
  let sid;
  if (scenario === "session-baseline") {
    await call(origin, jar, "POST", "/login", { user });
    await call(origin, new Jar(), "GET", "/r", undefined, 401); // no cookie: refused
    await call(origin, jar, "GET", "/r", undefined, 401); // signed in, no MFA yet: refused
    await call(origin, jar, "POST", "/mfa", {});
  } else if (scenario.startsWith("stepup")) {
    await call(origin, jar, "POST", "/login", { user });
    await call(origin, new Jar(), "GET", "/r", undefined, 401); // no cookie: refused
    await call(origin, jar, "GET", "/r", undefined, 401); // signed in, no step-up yet: refused
    sid = await stepUpThroughApi(origin, jar);
  }
  const body = await call(origin, jar, "GET", "/r");
  if (body?.ok !== true) throw new Error(`${scenario}: GET /r answered ${JSON.stringify(body)}`);
  return { cookie: jar.header(), sid, user };
}

// ---- Load

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where there is none. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

/**
 * `amount` requests of GET /r (with `cookie`) over `connections` connections; rejects on any non-2xx
 * answer, error or timeout (a count over failed requests would measure the failure path).
 */
export function load(origin, cookie, amount, connections) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${origin}/r`, connections, amount, headers: cookie ? { cookie } : {}, timeout: 60 },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx || result.errors || result.timeouts)
          return reject(
            new Error(`non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`),
          );
        resolve(result);
      },
    );
  });
}

/**
 * Warm-up, then one measured autocannon run against GET /r. Besides req/s and latency it reports
 * the server's CPU time per answered request: a noisy neighbour on the server's CPU lowers req/s,
 * changes what each request costs much less (it still varies by some 10-20 % on a shared VM).
 */
export async function measure(scenario, origin, cookie, { connections, warmup, seconds, pid }) {
  const base = {
    url: `${origin}/r`,
    connections,
    pipelining: 1,
    headers: cookie ? { cookie, accept: "application/json" } : { accept: "application/json" },
  };
  if (warmup > 0) await cannon({ ...base, duration: warmup });
  // autocannon's own histogram keeps whole milliseconds; the exact times are recorded here instead.
  const latencies = [];
  const cpuBefore = pid ? cpuSeconds(pid) : undefined;
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon({ ...base, duration: seconds }, (error, r) =>
      error ? reject(error) : resolve(r),
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const cpuAfter = pid ? cpuSeconds(pid) : undefined;
  latencies.sort((a, b) => a - b);
  const ok = result["2xx"];
  const cpuUs =
    cpuBefore === undefined || cpuAfter === undefined
      ? Number.NaN
      : ((cpuAfter - cpuBefore) * 1e6) / (ok + result.non2xx);
  return {
    scenario,
    rps: ok / result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
  };
}
