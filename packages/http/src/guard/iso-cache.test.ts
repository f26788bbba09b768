import { describe, expect, it } from "vitest";
import { ISO_CACHE_LIMIT, iso, isoCacheSize } from "./guard.js";

// The guard memoizes the ISO text of verification times (every request of a session reports the
// same one). Sessions verified at ever new times must not grow it past its bound.
describe("the guard's ISO time memo is bounded", () => {
  it(`holds at most ${ISO_CACHE_LIMIT} times, and stays exact after it starts over`, () => {
    const start = Date.UTC(2026, 10, 30);
    for (let i = 0; i < 3 * ISO_CACHE_LIMIT; i++) {
      const ms = start + i * 1_001;
      expect(iso(ms)).toBe(new Date(ms).toISOString());
      expect(isoCacheSize()).toBeLessThanOrEqual(ISO_CACHE_LIMIT);
    }
    expect(isoCacheSize()).toBeGreaterThan(0);
    expect(iso(start)).toBe(new Date(start).toISOString());
  });
});
