// Attack: memory exhaustion through the unseal cache. A client sends many valid step-up cookies
// (easy to collect: every request without a fresh cookie is issued one), each inside a large Cookie
// header (~16 KiB of padding). V8 makes `header.slice()` a view that keeps the whole header alive,
// so a cache keyed by that slice would pin every header: ~160 MiB at the 10,000-entry cap.
import { describe, expect, it } from "vitest";
import { createSessionCookie } from "./session-cookie.js";

const ENTRIES = 2_000;
const PADDING = "x".repeat(16 * 1024);
const options = { name: "stepup", ttlSeconds: 3600, path: "/", sameSite: "Lax" as const, secure: false };

function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") throw new Error("run with --expose-gc (packages/http/vitest.config.ts)");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("step-up cookie cache: header pinning", () => {
  it("caching a cookie does not keep its Cookie header alive", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const url = new URL("http://localhost/");
    const seals: string[] = [];
    for (let i = 0; i < ENTRIES; i++) {
      const setCookie = await cookie.issue({ sid: `s${i}`, uid: "alice" }, url);
      seals.push(setCookie.slice("stepup=".length, setCookie.indexOf(";")));
    }
    const now = Date.now();
    const before = collect();
    for (const sealed of seals) {
      // A fresh header per request, as the HTTP parser would hand it over.
      const header = `pad=${PADDING}; stepup=${sealed}; theme=dark`;
      expect(await cookie.read(header, now)).toBeDefined();
    }
    const growth = collect() - before;
    const headerBytes = ENTRIES * PADDING.length;
    // Pinned headers measured ~32 MiB here; flat ~300-byte keys ~1 MiB.
    expect(growth, `heap grew ${(growth / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(headerBytes / 10);
    // Still cached: the copies are the keys.
    expect(cookie.peek(`stepup=${seals[0]}`, now)).toEqual({ sid: "s0", uid: "alice" });
  });
});
