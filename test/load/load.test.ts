// Scale: four demo processes on one Redis, three Express and one Next.js (both adapters), under
// many virtual users at once, each browser's requests spread over every process: a challenge opened
// on the Next process is verified on an Express one, and the other way round. Threats: a TOTP step, recovery code or email code accepted
// twice when the same code reaches several processes at once, an email code accepted on a challenge
// it was not mailed for, more codes mailed than the send limits allow, a grant without a
// verification (or after a logout), a transfer paid twice, a 5xx under load, memory that grows with
// traffic.
// The short form runs with the tests; `npm run load` runs the long form (load/vitest.config.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { renderReport, runLoad } from "./load.js";
import { rssFigures } from "./memory.js";

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const seconds = env("STEPUP_LOAD_SECONDS", 12);
const users = env("STEPUP_LOAD_USERS", 40);
/**
 * Memory. A demo process starts at ~80 MB and V8 grows its heap to a steady ~120-125 MB within the
 * first ~15-20 s of this load. The long form (60 s: warm-up 0-20 s, window 20-60 s) is past that
 * growth: the floor of RSS (its least value, what survives collection) may rise at most 10 MB from
 * the first third of the window to the last, ~10 s apart at ~65 requests/s per process: a leak of
 * 10 KB per request would cross it, steady runs move it by +1 to +4 MB (README.md). The short form's
 * window (4-12 s) is inside the heap's growth (20-40 MB, more on a slower machine), so its growth
 * is printed, not judged; it asserts a ceiling instead, which a steady heap stays far under.
 */
const LONG = seconds >= 45;
const RSS_BOUND_MB = env("STEPUP_LOAD_RSS_MB", 10);
const RSS_CEILING_MB = 256;

it(`${users} users on 4 demo processes (3 Express, 1 Next.js) sharing one Redis for ${seconds} s: no code (TOTP, recovery, email) accepted twice or on another challenge, no grant without a verification, no 5xx, flat memory`, {
  timeout: (seconds + 120) * 1000,
}, async () => {
  const report = await runLoad({
    seconds,
    users,
    ...(process.env.STEPUP_LOAD_SEED ? { seed: Number(process.env.STEPUP_LOAD_SEED) } : {}),
    log: (line) => console.log(line),
  });
  const markdown = renderReport(report, LONG ? RSS_BOUND_MB : undefined, RSS_CEILING_MB);
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
  // Every memory check of every process, so one failure does not hide another. The Next.js process
  // runs with a heap budget (load.ts) so that its RSS says what survives collection, like the
  // Express ones' (README.md, "Memory").
  const memory: string[] = [];
  for (const f of rssFigures(report.rss, seconds / 3)) {
    if (f.samples < 3) continue; // not Linux (no /proc): nothing was measured
    const name = `process ${f.proc} (${report.adapters[f.proc]})`;
    if (!(f.peakMb < RSS_CEILING_MB))
      memory.push(`${name} RSS peak ${f.peakMb.toFixed(1)} MB, not under ${RSS_CEILING_MB} MB`);
    if (LONG && !(f.floorGrowthMb < RSS_BOUND_MB))
      memory.push(
        `${name} RSS floor growth after warm-up ${f.floorGrowthMb.toFixed(2)} MB, not under ${RSS_BOUND_MB} MB`,
      );
  }
  expect(memory).toEqual([]);
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
  // Email: enrolled through SMTP, and real step-ups with mailed codes (not only refusals).
  expect(count("enrol-email-confirm", 200)).toBeGreaterThan(0);
  expect(count("verify-email", 200) + count("replay-email", 200)).toBeGreaterThanOrEqual(3);
  if (LONG) {
    expect(count("replay-email")).toBeGreaterThan(0);
    expect(count("cross-email")).toBeGreaterThan(0);
  }
});
