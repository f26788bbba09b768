// Memory of each demo process over the run: VmRSS sampled every second, judged after a warm-up.

export interface RssSeries {
  proc: number;
  /** Seconds since the load started, and VmRSS in MB. */
  samples: { t: number; mb: number }[];
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
   * Growth of the floor: the least RSS in the last third of the window minus the least in its
   * first third. Memory that leaks survives collection and raises the floor; garbage not yet
   * collected only raises peaks, which is what moves the slope when it lands near an end.
   */
  floorGrowthMb: number;
  samples: number;
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

export function rssFigures(series: readonly RssSeries[], warmupS: number): RssFigures[] {
  return series.map(({ proc, samples }) => {
    const window = samples.filter((s) => s.t >= warmupS);
    const first = window[0];
    const last = window[window.length - 1];
    const span = first && last ? last.t - first.t : 0;
    const floor = (from: number, to: number) =>
      Math.min(...window.filter((x) => x.t >= from && x.t <= to).map((x) => x.mb));
    const start = first?.t ?? 0;
    return {
      proc,
      startMb: samples[0]?.mb ?? Number.NaN,
      warmMb: first?.mb ?? Number.NaN,
      endMb: samples[samples.length - 1]?.mb ?? Number.NaN,
      peakMb: Math.max(...samples.map((s) => s.mb)),
      growthMb: slope(window) * span,
      floorGrowthMb:
        span > 0 ? floor(start + (2 * span) / 3, start + span) - floor(start, start + span / 3) : 0,
      samples: samples.length,
    };
  });
}
