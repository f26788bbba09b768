// Memory of each demo process over the run: VmRSS sampled every second, and, a few times in each
// third of the measured window, the used V8 heap and VmRSS right after a full collection (forced
// through the process's inspector): what survives collection, which garbage cannot move.

export interface RssSeries {
  proc: number;
  /** Seconds since the load started, and VmRSS in MB. */
  samples: { t: number; mb: number }[];
  /** After a full collection: seconds since the load started, the used V8 heap and VmRSS in MB. */
  afterGc: { t: number; heapMb: number; rssMb: number }[];
}

/** Where a measure after collection stood at the end of the warm-up, at the end, and how its floor moved. */
export interface AfterGcFigures {
  warmMb: number;
  endMb: number;
  /** The least value in the last third of the window minus the least in its first third. */
  floorGrowthMb: number;
}

export interface RssFigures {
  proc: number;
  startMb: number;
  /** The first sample after the warm-up. */
  warmMb: number;
  endMb: number;
  peakMb: number;
  /**
   * Growth over the measured window: the least-squares slope of the samples after the warm-up
   * times the window's length (one late GC or one early spike moves it less than end minus start).
   */
  growthMb: number;
  /**
   * Growth of the floor of the sampled RSS: the least RSS in the last third of the window minus the
   * least in its first third. Printed, not judged: garbage that happens not to be collected in the
   * last third raises it too.
   */
  floorGrowthMb: number;
  samples: number;
  /** The used V8 heap after each forced collection in the window (what a leak of JS objects raises). */
  heap: AfterGcFigures;
  /** VmRSS after each forced collection in the window (what a native leak raises too). */
  rssAfterGc: AfterGcFigures;
  /** Forced collections in the window. */
  gcSamples: number;
}

/** Least-squares slope of y over x (0 with fewer than two points). */
export function slope(points: readonly { t: number; mb: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.mb - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The least value in the last third of the points' span minus the least in its first third. */
export function floorGrowth(points: readonly { t: number; mb: number }[]): number {
  const first = points[0];
  const last = points[points.length - 1];
  const span = first && last ? last.t - first.t : 0;
  if (!first || !last || span <= 0) return 0;
  const floor = (from: number, to: number) =>
    Math.min(...points.filter((x) => x.t >= from && x.t <= to).map((x) => x.mb));
  return floor(first.t + (2 * span) / 3, last.t) - floor(first.t, first.t + span / 3);
}

function afterGcFigures(points: readonly { t: number; mb: number }[]): AfterGcFigures {
  return {
    warmMb: points[0]?.mb ?? Number.NaN,
    endMb: points[points.length - 1]?.mb ?? Number.NaN,
    floorGrowthMb: floorGrowth(points),
  };
}

export function rssFigures(series: readonly RssSeries[], warmupS: number): RssFigures[] {
  return series.map(({ proc, samples, afterGc }) => {
    const window = samples.filter((s) => s.t >= warmupS);
    const first = window[0];
    const last = window[window.length - 1];
    const span = first && last ? last.t - first.t : 0;
    const gc = afterGc.filter((s) => s.t >= warmupS);
    return {
      proc,
      startMb: samples[0]?.mb ?? Number.NaN,
      warmMb: first?.mb ?? Number.NaN,
      endMb: samples[samples.length - 1]?.mb ?? Number.NaN,
      peakMb: Math.max(...samples.map((s) => s.mb)),
      growthMb: slope(window) * span,
      floorGrowthMb: floorGrowth(window),
      samples: samples.length,
      heap: afterGcFigures(gc.map((s) => ({ t: s.t, mb: s.heapMb }))),
      rssAfterGc: afterGcFigures(gc.map((s) => ({ t: s.t, mb: s.rssMb }))),
      gcSamples: gc.length,
    };
  });
}

export interface MemoryBounds {
  /** Peak VmRSS allowed, every process, every form. */
  ceilingMb: number;
  /** Growth allowed of the used heap's floor after collection (judged when given: the long form). */
  heapMb?: number;
  /** Growth allowed of VmRSS's floor after collection (judged when given: the long form). */
  rssMb?: number;
}

/**
 * Every memory check of every process that failed (so one failure does not hide another). A
 * process with fewer than 3 RSS samples was not measured (no /proc): nothing is judged. The floors
 * are judged on measures taken right after a full collection, so garbage not yet collected, however
 * high it rose, moves nothing; memory that is kept raises them.
 */
export function memoryFailures(
  figures: readonly RssFigures[],
  adapters: readonly string[],
  bounds: MemoryBounds,
): string[] {
  const failures: string[] = [];
  for (const f of figures) {
    if (f.samples < 3) continue;
    const name = `process ${f.proc} (${adapters[f.proc] ?? "?"})`;
    if (!(f.peakMb < bounds.ceilingMb))
      failures.push(`${name} RSS peak ${f.peakMb.toFixed(1)} MB, not under ${bounds.ceilingMb} MB`);
    if (bounds.heapMb === undefined && bounds.rssMb === undefined) continue;
    // A floor needs a measure in the first third and one in the last: at least 3 in the window.
    if (f.gcSamples < 3) {
      failures.push(`${name}: ${f.gcSamples} measures after a collection in the window, at least 3 needed`);
      continue;
    }
    if (bounds.heapMb !== undefined && !(f.heap.floorGrowthMb < bounds.heapMb))
      failures.push(
        `${name} used heap after collection grew ${f.heap.floorGrowthMb.toFixed(2)} MB after warm-up, not under ${bounds.heapMb} MB`,
      );
    if (bounds.rssMb !== undefined && !(f.rssAfterGc.floorGrowthMb < bounds.rssMb))
      failures.push(
        `${name} RSS after collection grew ${f.rssAfterGc.floorGrowthMb.toFixed(2)} MB after warm-up, not under ${bounds.rssMb} MB`,
      );
  }
  return failures;
}
