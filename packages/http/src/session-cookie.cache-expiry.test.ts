// Endurance: the unseal cache must not hold dead seals. Before, an entry left only when the cache
// reached its 10,000-entry cap, so a busy process ended up holding a full cache of seals that had
// expired hours ago (the long load test's slow heap growth). Now the oldest entries are dropped as
// new seals come in once their seal has expired; the cap still bounds the rest.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSessionCookie } from "./session-cookie.js";

const TTL = 60;
const options = { name: "stepup", ttlSeconds: TTL, path: "/", sameSite: "Lax" as const, secure: false };
const url = new URL("http://localhost/");
const cookiePair = (setCookie: string) => setCookie.split(";")[0] ?? "";

afterEach(() => {
  vi.useRealTimers();
});

/** `count` new sessions' cookies, sealed (and so expiring) by the clock as it is set now. */
async function seals(cookie: ReturnType<typeof createSessionCookie>, from: number, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) =>
      cookiePair(await cookie.issue({ sid: `s${from + i}`, uid: `u${from + i}` }, url)),
    ),
  );
}

describe("step-up cookie cache: expired seals leave as new ones come", () => {
  it("a generation of sessions that expired is replaced, not added to (the cache stays at the live sessions)", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const t0 = Date.UTC(2026, 0, 1);
    const n = 60;
    let next = 0;
    for (let generation = 0; generation < 4; generation++) {
      // Each generation is sealed one lifetime and a minute after the one before: all of those have expired.
      const now = t0 + generation * (TTL + 60) * 1000;
      vi.useFakeTimers({ now, toFake: ["Date"] });
      const batch = await seals(cookie, next, n);
      next += n;
      for (const c of batch) expect(await cookie.read(c, now)).toBeDefined();
      expect(cookie.cacheSize(), `generation ${generation}`).toBe(n);
      for (const c of batch) expect(cookie.peek(c, now)).toBeDefined(); // the live ones are all kept
    }
  });

  it("live seals are never dropped early: a second generation within the first's lifetime adds to it", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const t0 = Date.UTC(2026, 0, 1);
    vi.useFakeTimers({ now: t0, toFake: ["Date"] });
    const first = await seals(cookie, 0, 20);
    for (const c of first) await cookie.read(c, t0);
    const later = t0 + (TTL - 1) * 1000;
    vi.setSystemTime(later);
    const second = await seals(cookie, 20, 20);
    for (const c of second) await cookie.read(c, later);
    expect(cookie.cacheSize()).toBe(40);
    for (const c of [...first, ...second]) expect(cookie.peek(c, later)).toBeDefined();
  });
});
