// Four demo processes (three Express, one Next.js) on one Redis under many virtual users for a
// bounded time; then the invariants on the record of every request, and the figures. See README.md here.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { startRedisServer } from "@stepup/testkit";
import { Redis } from "ioredis";
import { SESSION_SECRET, STEPUP_SECRET, STEPUP_TOKEN_KEY } from "../support/demo.js";
import {
  connectDevTools,
  type DevTools,
  evaluate,
  heapAfterGc,
  inspectorUrls,
  listensOnLoopbackOnly,
} from "../support/inspector.js";
import { startNextDemo } from "../support/next.js";
import { spawnDemo } from "../support/process.js";
import { waitReady } from "../support/redis.js";
import { startSmsReceiver } from "../support/sms-receiver.js";
import { startSmtpCapture } from "../support/smtp.js";
import { CHANNELS, type Channel, InFlight, type Rec, VERIFY_KINDS } from "./client.js";
import { checkInvariants } from "./invariants.js";
import { type MemoryBounds, type RssSeries, rssFigures } from "./memory.js";
import { type Run, VirtualUser } from "./users.js";

export interface LoadOptions {
  /** Seconds of load (the first third is the warm-up of the memory check). */
  seconds: number;
  /** Virtual users. */
  users: number;
  /** Demo processes, both adapters together. @default 4 */
  processes?: number;
  /** Of them, Next.js demo processes (`examples/next`); the others are Express. @default 1 */
  nextProcesses?: number;
  /** Requests in flight at most, all users together. @default 32 */
  inFlight?: number;
  /** STEPUP_MAX_AGE of the demo processes, in seconds: guarded routes go stale after it. @default 10 */
  maxAge?: number;
  /** Per-request deadline, in ms. @default 30000 */
  timeoutMs?: number;
  /** Seed of the mix. @default the time */
  seed?: number;
  log?: (line: string) => void;
}

export interface LoadReport {
  options: Required<Omit<LoadOptions, "log">>;
  /** Wall-clock seconds of the load phase (users may finish their last action after the deadline). */
  elapsedS: number;
  records: Rec[];
  violations: string[];
  /** Requests answered 5xx. */
  serverErrors: Rec[];
  /** Requests with no answer (timeouts, socket errors). */
  transportErrors: Rec[];
  rss: RssSeries[];
  events: Map<string, number>;
  accounts: number;
  peakInFlight: number;
  /** Lines of the demo processes' output that report an error. */
  processErrors: string[];
  /** Whether every demo process was still running at the end. */
  allAlive: boolean;
  /** The adapter of each demo process, by index (`proc` of the records and the RSS series). */
  adapters: Adapter[];
  redisMemoryMb: number;
  /** Messages with a code each capture server (SMTP, SMS webhook) received. */
  sentCodes: Record<Channel, number>;
  /**
   * Every inspector the demo processes opened (`--inspect=127.0.0.1:0`; the Next demo's wrapper
   * opens one too): its address, and whether every socket listening on its port is on loopback.
   */
  inspectors: { proc: number; url: string; loopbackOnly: boolean | undefined }[];
}

export type Adapter = "express" | "next";

/** A demo process of either adapter, as the load test drives and measures it. */
interface LoadDemo {
  adapter: Adapter;
  origin: string;
  child: ChildProcess;
  /** The process whose RSS is sampled: the Express server itself; for Next, `next-server`. */
  serverPid: number | undefined;
  /** The DevTools session with that process's inspector (the load test's only client of it). */
  devtools?: DevTools;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The first child of a process (Linux: /proc), or the process itself off Linux. The Next demo's
 * `scripts/start.mjs` checks the environment and runs `next start` as its child, which serves
 * (`next-server`): its RSS is the Next demo's, the wrapper's stays flat.
 */
function childPid(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0];
    return first ? Number(first) : pid;
  } catch {
    return pid;
  }
}

/**
 * Every demo process runs with its V8 inspector on a free loopback port, so that the load test can
 * force a full collection before it reads the memory (the floor judged is what survives one). The
 * port never listens beyond loopback (checked), and the test is its only client.
 */
const INSPECT = "--inspect=127.0.0.1:0";

/**
 * Connects to the inspector of the process whose memory is measured: of those its output
 * announced (next-server's and its wrapper's both: NODE_OPTIONS reaches both), the one whose
 * `process.pid` is `serverPid`.
 */
async function attachInspector(d: LoadDemo, proc: number): Promise<DevTools> {
  const urls = inspectorUrls(d.output());
  for (const url of urls) {
    const devtools = await connectDevTools(url);
    if ((await evaluate(devtools, "process.pid")) === d.serverPid) return devtools;
    devtools.close();
  }
  throw new Error(`process ${proc}: no inspector of pid ${d.serverPid} among ${urls.join(", ") || "none"}`);
}

/** A small seeded PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** VmRSS of a process in MB, or undefined off Linux (or once it has exited). */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(file, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export async function runLoad(input: LoadOptions): Promise<LoadReport> {
  const options = {
    seconds: input.seconds,
    users: input.users,
    processes: input.processes ?? 4,
    nextProcesses: input.nextProcesses ?? 1,
    inFlight: input.inFlight ?? 32,
    maxAge: input.maxAge ?? 10,
    timeoutMs: input.timeoutMs ?? 30_000,
    seed: input.seed ?? Date.now() % 2 ** 31,
  };
  const log = input.log ?? (() => {});
  const redis = await startRedisServer();
  // A real SMTP server and a real SMS webhook on loopback: the codes the demo processes send arrive here.
  const smtp = await startSmtpCapture();
  const sms = await startSmsReceiver();
  const demos: LoadDemo[] = [];
  const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  probe.on("error", () => {});
  try {
    await waitReady(probe, 10_000);
    const env = {
      REDIS_URL: redis.url,
      SMTP_URL: smtp.url,
      SMS_WEBHOOK_URL: sms.url,
      // The same secrets on both adapters: the demos' login cookie (iron-session `demo_session`,
      // sealed with SESSION_SECRET) and stepup's cookies are read by every process.
      SESSION_SECRET,
      STEPUP_SECRET,
      STEPUP_TOKEN_KEY,
      // REQUIRED: a user without a factor is asked too (OPTIONAL would let a fresh account pass).
      STEPUP_POLICY: "REQUIRED",
      STEPUP_MAX_AGE: String(options.maxAge),
      // glibc raises its mmap threshold after the first large free, so the toy login's 16 MB scrypt
      // buffers (one per sign-up and log-in) then come from the heap and stay in RSS, which grows in
      // 10-16 MB steps that are the allocator's, not a leak. Pinned at its default (128 KiB), they go
      // back to the OS when freed; anything that leaks still shows. No effect off glibc.
      MALLOC_MMAP_THRESHOLD_: "131072",
    };
    const inspect = { NODE_OPTIONS: INSPECT };
    // The last `nextProcesses` are Next.js demos (`next start`, NODE_ENV=production), the others
    // Express (NODE_ENV=test); the same environment otherwise.
    const nextFrom = options.processes - options.nextProcesses;
    const started = await Promise.allSettled(
      Array.from({ length: options.processes }, async (_, i): Promise<LoadDemo> => {
        if (i < nextFrom) {
          const d = await spawnDemo({ ...env, ...inspect }, 30_000);
          return { adapter: "express", ...d, serverPid: d.child.pid, output: d.output, stop: d.stop };
        }
        // A heap budget, as a container would give it: without one, next-server's V8 heap grows
        // towards its default limit for the whole minute before it collects (100 to 265 MB, not
        // a leak: capped at 96 MB the same run stayed at 135-162 MB), and no memory check means
        // anything. With it the Next process is held to the same checks as the Express ones.
        const d = await startNextDemo(
          { ...env, NODE_OPTIONS: `--max-old-space-size=128 ${INSPECT}` },
          60_000,
        );
        return { adapter: "next", ...d, serverPid: childPid(d.child.pid), output: d.output, stop: d.stop };
      }),
    );
    for (const s of started) if (s.status === "fulfilled") demos.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    const inspectors = demos.flatMap((d, proc) =>
      inspectorUrls(d.output()).map((url) => ({
        proc,
        url,
        loopbackOnly: listensOnLoopbackOnly(Number(new URL(url).port)),
      })),
    );
    for (const [i, d] of demos.entries()) d.devtools = await attachInspector(d, i);
    log(
      `load: ${options.processes} demo processes (${demos.map((d) => d.adapter).join(", ")}) on ${redis.url}, ${options.users} users, ${options.seconds} s, seed ${options.seed}`,
    );

    const startMs = Date.now();
    const run: Run = {
      origins: demos.map((d) => d.origin),
      adapters: demos.map((d) => d.adapter),
      inFlight: new InFlight(options.inFlight),
      records: [],
      timeoutMs: options.timeoutMs,
      deadlineMs: startMs + options.seconds * 1000,
      random: mulberry32(options.seed),
      issued: new Map(),
      generations: new Map(),
      accounts: 0,
      maxAccounts: options.users * 3,
      events: new Map(),
      overIssued: [],
      inboxes: {
        email: {
          messages: smtp.messages,
          next: (to, sinceMs) =>
            smtp.waitForMail(to, { match: (m) => m.code !== "" && m.receivedAtMs >= sinceMs }),
        },
        sms: {
          messages: sms.messages,
          next: (to, sinceMs) =>
            sms.waitForSms(to, { match: (m) => m.code !== "" && m.receivedAtMs >= sinceMs }),
        },
      },
    };
    const rss: RssSeries[] = demos.map((_d, i) => ({ proc: i, samples: [], afterGc: [] }));
    const sample = () => {
      const t = (Date.now() - startMs) / 1000;
      for (const [i, d] of demos.entries()) {
        const mb = rssMb(d.serverPid);
        if (mb !== undefined) rss[i]?.samples.push({ t, mb });
      }
    };
    // After a full collection in every process at once: the used heap, then VmRSS.
    const sampleAfterGc = () =>
      Promise.all(
        demos.map(async (d, i) => {
          if (!d.devtools) return;
          const heapMb = await heapAfterGc(d.devtools);
          const mb = rssMb(d.serverPid);
          const t = (Date.now() - startMs) / 1000;
          if (mb !== undefined) rss[i]?.afterGc.push({ t, heapMb, rssMb: mb });
        }),
      );
    // At the end of the warm-up, then every tenth of the window (at least 2 s apart), then once
    // more when the users are done: 3-4 measures in each third of the long form's window.
    const warmupS = options.seconds / 3;
    const everyS = Math.max(2, (options.seconds - warmupS) / 10);
    let stopGc = () => {};
    const gcStopped = new Promise<void>((r) => {
      stopGc = r;
    });
    const gcLoop = (async () => {
      for (let k = 0; warmupS + k * everyS < options.seconds; k++) {
        const wait = startMs + (warmupS + k * everyS) * 1000 - Date.now();
        const stopped = await new Promise<boolean>((r) => {
          const timer = setTimeout(() => r(false), Math.max(0, wait));
          void gcStopped.then(() => {
            clearTimeout(timer);
            r(true);
          });
        });
        if (stopped) return;
        await sampleAfterGc();
      }
    })();
    sample();
    const sampler = setInterval(sample, 1_000);
    const ticker = setInterval(() => {
      log(`load: ${Math.round((Date.now() - startMs) / 1000)} s, ${run.records.length} requests`);
    }, 10_000);
    const users = Array.from({ length: options.users }, () => new VirtualUser(run));
    // Staggered over the first second, so the sign-ups do not all land in one tick.
    await Promise.all(
      users.map(async (u, i) => {
        await new Promise((r) => setTimeout(r, (i * 1000) / options.users));
        await u.live();
      }),
    );
    clearInterval(sampler);
    clearInterval(ticker);
    stopGc();
    await gcLoop;
    await sampleAfterGc();
    sample();
    const elapsedS = (Date.now() - startMs) / 1000;

    const info = await probe.info("memory").catch(() => "");
    const redisMemoryMb = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20;
    const records = run.records;
    const violations = [...checkInvariants(run, options.maxAge), ...run.overIssued];
    const processErrors = demos.flatMap((d, i) =>
      d
        .output()
        .split("\n")
        .filter((line) => /unhandled|error/i.test(line) && !/stepup event:/.test(line))
        .map((line) => `process ${i}: ${line}`),
    );
    return {
      options,
      elapsedS,
      records,
      violations,
      serverErrors: records.filter((r) => r.status >= 500),
      transportErrors: records.filter((r) => r.status === 0),
      rss,
      events: run.events,
      accounts: run.accounts,
      peakInFlight: run.inFlight.peak,
      processErrors,
      allAlive: demos.every((d) => d.child.exitCode === null && d.child.signalCode === null),
      adapters: demos.map((d) => d.adapter),
      redisMemoryMb,
      sentCodes: {
        email: smtp.messages.filter((m) => m.code !== "").length,
        sms: sms.messages.filter((m) => m.code !== "").length,
      },
      inspectors,
    };
  } finally {
    // Sessions first: a process that exits with a debugger attached waits for it to leave.
    for (const d of demos) d.devtools?.close();
    await Promise.all(demos.map((d) => d.stop()));
    probe.disconnect();
    await redis.stop();
    await smtp.close();
    await sms.close();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

function latency(records: readonly Rec[]): { n: number; p50: number; p99: number } {
  const ms = records.map((r) => r.ms).sort((a, b) => a - b);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** The figures as markdown: throughput, latencies, outcomes, memory, invariants. */
export function renderReport(report: LoadReport, bounds: MemoryBounds): string {
  const { records, options, elapsedS } = report;
  const answered = records.filter((r) => r.status !== 0);
  const lines: string[] = [];
  const o = options;
  lines.push(
    `# Load test: ${o.processes} demo processes (${o.processes - o.nextProcesses} Express, ${o.nextProcesses} Next.js) on one Redis`,
    "",
    `${new Date().toISOString()}, Node ${process.version}, ${o.users} virtual users, ${o.seconds} s (ran ${fmt(elapsedS)} s), ` +
      `at most ${o.inFlight} requests in flight (peak ${report.peakInFlight}), STEPUP_MAX_AGE=${o.maxAge}, seed ${o.seed}, ` +
      `${report.accounts} accounts.`,
    "",
    "## Invariants",
    "",
    report.violations.length === 0
      ? "All held."
      : report.violations.map((v) => `- VIOLATED: ${v}`).join("\n"),
    "",
    `5xx answers: ${report.serverErrors.length}. Requests without an answer: ${report.transportErrors.length}` +
      (report.transportErrors.length
        ? ` (${[...new Set(report.transportErrors.map((r) => r.error))].join(", ")})`
        : "") +
      `. Demo processes alive at the end: ${report.allAlive ? "all" : "NOT ALL"}. Error lines in their output: ${report.processErrors.length}.`,
    "",
    "## Throughput and latency",
    "",
    "| kind | requests | req/s | p50 ms | p99 ms |",
    "|---|---:|---:|---:|---:|",
  );
  const row = (name: string, rs: readonly Rec[]) => {
    const l = latency(rs);
    lines.push(`| ${name} | ${rs.length} | ${fmt(rs.length / elapsedS)} | ${fmt(l.p50)} | ${fmt(l.p99)} |`);
  };
  row("**all**", records);
  for (const adapter of ["express", "next"] as const)
    row(
      `all, on ${adapter === "next" ? "Next.js" : "Express"} processes`,
      records.filter((r) => report.adapters[r.proc] === adapter),
    );
  row(
    "**verify** (every kind of code sent)",
    answered.filter((r) => VERIFY_KINDS.has(r.kind)),
  );
  row(
    "**guard** (`GET /api/export`, `/admin` of a signed-in user)",
    answered.filter((r) => r.kind === "guard"),
  );
  row(
    "guard, answered 200 (fresh)",
    answered.filter((r) => r.kind === "guard" && r.status === 200),
  );
  row(
    "guard, answered 401 (not fresh)",
    answered.filter((r) => r.kind === "guard" && r.status === 401),
  );
  const kinds = [...new Set(records.map((r) => r.kind))].sort();
  for (const kind of kinds)
    row(
      kind,
      records.filter((r) => r.kind === kind),
    );
  lines.push(
    "",
    "## Per process",
    "",
    "| process | adapter | requests | req/s | 5xx | no answer | p50 ms | p99 ms |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const [proc, adapter] of report.adapters.entries()) {
    const rs = records.filter((r) => r.proc === proc);
    const l = latency(rs);
    lines.push(
      `| ${proc} | ${adapter === "next" ? "Next.js" : "Express"} | ${rs.length} | ${fmt(rs.length / elapsedS)} | ` +
        `${rs.filter((r) => r.status >= 500).length} | ${rs.filter((r) => r.status === 0).length} | ${fmt(l.p50)} | ${fmt(l.p99)} |`,
    );
  }
  lines.push("", "## Outcomes", "", "| kind | status | error | count |", "|---|---:|---|---:|");
  const outcomes = new Map<string, number>();
  for (const r of records) {
    const key = `${r.kind}|${r.status}|${r.error}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  for (const [key, n] of [...outcomes].sort(([a], [b]) => a.localeCompare(b))) {
    const [kind, status, error] = key.split("|");
    lines.push(`| ${kind} | ${status} | ${error || ""} | ${n} |`);
  }
  lines.push("", "## The mix", "", "| event | count |", "|---|---:|");
  for (const [event, n] of [...report.events].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`| ${event} | ${n} |`);
  const n = (kind: string, ok: (status: number) => boolean) =>
    records.filter((r) => r.kind === kind && ok(r.status)).length;
  const is = (s: number) => (status: number) => status === s;
  const refused = (status: number) => status >= 400 && status < 500;
  lines.push("", "## Codes sent by email and SMS", "");
  for (const c of CHANNELS) {
    const name = c === "email" ? "Email" : "SMS";
    lines.push(
      `${name}: codes received by the ${c === "email" ? "SMTP server" : "SMS webhook"}: ${report.sentCodes[c]}. ` +
        `Sends (challenge \`start\`, enrolment): ${n(`send-${c}`, is(200)) + n(`enrol-${c}-start`, is(201))} sent, ` +
        `${n(`send-${c}`, is(429)) + n(`enrol-${c}-start`, is(429))} refused 429 \`rate_limited\`. ` +
        `Enrolments confirmed: ${n(`enrol-${c}-confirm`, is(200))}. ` +
        `Step-ups accepted: ${n(`verify-${c}`, is(200)) + n(`replay-${c}`, is(200))} ` +
        `(of them ${n(`replay-${c}`, is(200))} by a concurrent replay's winner). ` +
        `Concurrent replays refused: ${n(`replay-${c}`, refused)}. ` +
        `Codes of one challenge tried on another: ${n(`cross-${c}`, () => true)}, refused ${n(`cross-${c}`, refused)}.`,
      "",
    );
  }
  const judged = bounds.heapMb !== undefined;
  lines.push(
    "",
    `## Memory (warm-up: the first ${fmt(o.seconds / 3, 0)} s)`,
    "",
    "After a full collection (`HeapProfiler.collectGarbage` through each process's inspector, on " +
      "loopback), at the end of the warm-up, every tenth of the window and at the end: the used V8 heap " +
      "(`Runtime.getHeapUsage`) and VmRSS. Floor growth: the least value in the last third of the " +
      `window minus the least in its first third (garbage cannot move it; kept memory raises it), ${
        judged
          ? `at most ${bounds.heapMb} MB for the heap and ${bounds.rssMb} MB for RSS, every process`
          : "printed, not judged, in a short run (its window holds the first requests' warm-up)"
      }. Sampled VmRSS (every second): its floor growth and slope growth (the least-squares slope ` +
      `times the window) are printed only (uncollected garbage moves both). Peak: at most ${bounds.ceilingMb} MB.`,
    "",
    "| process | adapter | heap after GC: warm-up end MB | end MB | floor growth MB | RSS after GC: warm-up end MB | end MB | floor growth MB | GCs | RSS start MB | peak MB | end MB | sampled floor growth MB | slope growth MB | samples |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const f of rssFigures(report.rss, o.seconds / 3)) {
    lines.push(
      `| ${f.proc} | ${report.adapters[f.proc] ?? ""} | ${fmt(f.heap.warmMb)} | ${fmt(f.heap.endMb)} | ${fmt(f.heap.floorGrowthMb, 2)} | ` +
        `${fmt(f.rssAfterGc.warmMb)} | ${fmt(f.rssAfterGc.endMb)} | ${fmt(f.rssAfterGc.floorGrowthMb, 2)} | ${f.gcSamples} | ` +
        `${fmt(f.startMb)} | ${fmt(f.peakMb)} | ${fmt(f.endMb)} | ${fmt(f.floorGrowthMb, 2)} | ${fmt(f.growthMb, 2)} | ${f.samples} |`,
    );
  }
  lines.push("", "After each collection, used heap / VmRSS (MB):", "");
  for (const series of report.rss) {
    const points = series.afterGc.map((x) => `${fmt(x.heapMb, 0)}/${fmt(x.rssMb, 0)}`);
    lines.push(`    process ${series.proc} (${report.adapters[series.proc] ?? ""}): ${points.join(" ")}`);
  }
  lines.push("", "VmRSS every 5 s (MB):", "");
  for (const series of report.rss) {
    const every5 = series.samples.filter((_, i) => i % 5 === 0).map((x) => fmt(x.mb, 0));
    lines.push(`    process ${series.proc} (${report.adapters[series.proc] ?? ""}): ${every5.join(" ")}`);
  }
  lines.push(
    "",
    `Inspectors (the test runner their only client): ${report.inspectors
      .map(
        (i) =>
          `process ${i.proc} ${i.url.replace(/\/[^/]*$/, "")} (${i.loopbackOnly ? "loopback only" : "NOT LOOPBACK ONLY"})`,
      )
      .join(", ")}.`,
  );
  lines.push("", `Redis used_memory at the end: ${fmt(report.redisMemoryMb)} MB.`, "");
  if (report.processErrors.length > 0) {
    lines.push(
      "## Error lines of the demo processes",
      "",
      ...report.processErrors.slice(0, 20).map((l) => `    ${l}`),
      "",
    );
  }
  return lines.join("\n");
}
