// Scale: four demo processes on one Redis, three Express and one Next.js (both adapters), under
// many virtual users at once, each browser's requests spread over every process: a challenge opened
// on the Next process is verified on an Express one, and the other way round. Threats: a TOTP step,
// recovery code, email or SMS code accepted twice when the same code reaches several processes at
// once, an email or SMS code accepted on a challenge it was not sent for, more codes sent than the
// send limits allow, a grant without a verification (or after a logout), a transfer paid twice, a
// 5xx under load, memory that grows with traffic.
// The short form runs with the tests; `npm run load` runs the long form (load/vitest.config.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { renderReport, runLoad } from "./load.js";
import { memoryFailures, rssFigures } from "./memory.js";

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const seconds = env("STEPUP_LOAD_SECONDS", 12);
const users = env("STEPUP_LOAD_USERS", 40);
/**
 * Memory. A demo process starts at ~80 MB and V8 grows its heap to a steady ~120-125 MB within the
 * first ~15-20 s of this load, collecting when it sees fit, so sampled RSS rises and falls with
 * garbage. What is judged is measured right after a full collection (forced through each process's
 * inspector): the used V8 heap and VmRSS, a few times in each third of the window. The long form
 * (60 s: warm-up 0-20 s, window 20-60 s): the floor of the heap after collection may rise at most
 * STEPUP_LOAD_HEAP_MB (4 MB) from the first third of the window to the last, ~27 s apart: ~700
 * requests of an Express process on a busy 2-core machine, ~2,000 at 75 requests/s, so a leak of
 * ~6 KB (~2 KB) per request crosses it; bounded caches filling move it +1 to +2.5 MB (README.md).
 * That of RSS after collection may rise at most STEPUP_LOAD_RSS_MB (10 MB). The short form's window
 * (4-12 s) holds the first requests of every kind (code compiled, caches filled), so its floors are
 * printed, not judged; it asserts the ceiling, which a steady process stays far under.
 */
const LONG = seconds >= 45;
const HEAP_BOUND_MB = env("STEPUP_LOAD_HEAP_MB", 4);
const RSS_BOUND_MB = env("STEPUP_LOAD_RSS_MB", 10);
const RSS_CEILING_MB = 256;

it(`${users} users on 4 demo processes (3 Express, 1 Next.js) sharing one Redis for ${seconds} s: no code (TOTP, recovery, email, SMS) accepted twice or on another challenge, no grant without a verification, no 5xx, flat memory`, {
  timeout: (seconds + 120) * 1000,
}, async () => {
  const report = await runLoad({
    seconds,
    users,
    ...(process.env.STEPUP_LOAD_SEED ? { seed: Number(process.env.STEPUP_LOAD_SEED) } : {}),
    log: (line) => console.log(line),
  });
  const bounds = LONG
    ? { ceilingMb: RSS_CEILING_MB, heapMb: HEAP_BOUND_MB, rssMb: RSS_BOUND_MB }
    : { ceilingMb: RSS_CEILING_MB };
  const markdown = renderReport(report, bounds);
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}latest.md`, markdown);
  console.log(markdown);

  expect(report.violations).toEqual([]);
  const described = (r: (typeof report.records)[number]) =>
    `${r.kind} ${r.path} on ${r.proc}: ${r.status} ${r.error}`;
  expect(report.serverErrors.map(described)).toEqual([]);
  expect(report.transportErrors.map(described)).toEqual([]);
  expect(report.allAlive).toBe(true);
  expect(report.processErrors).toEqual([]);
  // Both adapters served, and step-ups crossed them both ways.
  for (const adapter of ["express", "next"])
    expect(
      report.records.filter((r) => report.adapters[r.proc] === adapter && r.status !== 0).length,
      `requests answered by ${adapter} processes`,
    ).toBeGreaterThan(0);
  const event = (name: string) => report.events.get(name) ?? 0;
  expect(event("step-up opened on next, verified on express: accepted")).toBeGreaterThan(0);
  expect(event("step-up opened on express, verified on next: accepted")).toBeGreaterThan(0);
  // Every memory check of every process, so one failure does not hide another (memory.ts).
  expect(memoryFailures(rssFigures(report.rss, seconds / 3), report.adapters, bounds)).toEqual([]);
  // The inspectors the memory is read through listened on loopback only.
  expect(report.inspectors.length).toBeGreaterThanOrEqual(report.adapters.length);
  for (const i of report.inspectors) {
    expect(new URL(i.url).hostname, i.url).toBe("127.0.0.1");
    expect(i.loopbackOnly, `${i.url} listens beyond loopback`).not.toBe(false);
  }
  // It did what it says: every kind of thing happened, and was checked.
  const count = (kind: string, status?: number) =>
    report.records.filter((r) => r.kind === kind && (status === undefined || r.status === status)).length;
  expect(count("enrol-confirm", 200)).toBeGreaterThan(0);
  expect(count("verify-totp", 200) + count("replay-totp", 200)).toBeGreaterThan(0);
  expect(count("verify-recovery", 200) + count("replay-recovery", 200)).toBeGreaterThan(0);
  expect(count("replay-totp") + count("replay-recovery")).toBeGreaterThan(0);
  expect(count("transfer", 200)).toBeGreaterThan(0);
  expect(count("guard", 200)).toBeGreaterThan(0);
  expect(count("guard", 401)).toBeGreaterThan(0);
  // Email and SMS: enrolled through the real SMTP server and SMS webhook, and real step-ups with
  // the codes they received (not only refusals): at least 3 by email, 1 by SMS.
  for (const [c, least] of [
    ["email", 3],
    ["sms", 1],
  ] as const) {
    expect(count(`enrol-${c}-confirm`, 200), `${c} enrolments`).toBeGreaterThan(0);
    expect(count(`verify-${c}`, 200) + count(`replay-${c}`, 200), `${c} step-ups`).toBeGreaterThanOrEqual(
      least,
    );
    if (LONG) {
      expect(count(`replay-${c}`), `${c} concurrent replays`).toBeGreaterThan(0);
      expect(count(`cross-${c}`), `${c} crossed codes`).toBeGreaterThan(0);
    }
  }
});
