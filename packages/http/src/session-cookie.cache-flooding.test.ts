// Attack: flooding the unseal cache with forged step-up cookies. Anyone can send cookies that look
// like seals; if refusals were cached, 10,000 of them would push every real session out of the
// (FIFO) cache, so each real request pays the ~0.3 ms unseal again, and each forged one would hold
// an entry. Refusals must not be cached, and what is not even shaped like our seal must be refused
// before any crypto runs.
import * as iron from "iron-session";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createSessionCookie, UNSEAL_CACHE_LIMIT } from "./session-cookie.js";

vi.mock("iron-session", async (importOriginal) => {
  const actual = await importOriginal<typeof import("iron-session")>();
  return { ...actual, unsealData: vi.fn(actual.unsealData) };
});

const unseal = vi.mocked(iron.unsealData);
const options = { name: "stepup", ttlSeconds: 3600, path: "/", sameSite: "Lax" as const, secure: false };
const url = new URL("http://localhost/");
const cookiePair = (setCookie: string) => setCookie.split(";")[0] ?? "";

const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Forgery number `i` of a cookie: its HMAC's last three characters replaced. Well shaped, not ours. */
function forge(pair: string, i: number): string {
  const end = pair.length - "~2".length;
  const tail = [i >> 12, i >> 6, i].map((n) => DIGITS[n & 63]).join("");
  return pair.slice(0, end - 3) + tail + pair.slice(end);
}

describe("step-up cookie cache: flooding with forged cookies", () => {
  beforeEach(() => {
    unseal.mockClear();
  });

  it("a forged cookie is not cached: each read of it is refused by the unseal again", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const forged = forge(cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url)), 1);
    const now = Date.now();
    expect(await cookie.read(forged, now)).toBeUndefined();
    expect(await cookie.read(forged, now)).toBeUndefined();
    expect(unseal).toHaveBeenCalledTimes(2);
    expect(cookie.peek(forged, now)).toBeUndefined();
  });

  it("forged cookies do not evict a real session from the cache", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const good = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url));
    const other = cookiePair(await cookie.issue({ sid: "s2", uid: "mallory" }, url));
    const now = Date.now();
    expect(await cookie.read(good, now)).toEqual({ sid: "s1", uid: "alice" });
    for (let i = 0; i <= UNSEAL_CACHE_LIMIT + 1; i++) {
      const forged = forge(other, i);
      if (forged !== other) expect(await cookie.read(forged, now)).toBeUndefined();
    }
    expect(cookie.peek(good, now)).toEqual({ sid: "s1", uid: "alice" }); // still cached
  });

  it("a cached seal's tail on another body is not a hit: the cache answers only for the exact seal it verified", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const good = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url));
    const now = Date.now();
    expect(await cookie.read(good, now)).toEqual({ sid: "s1", uid: "alice" });
    // One character of the sealed data changed, the tail (HMAC, expiry) kept: the key the cache
    // files the seal under is the same; the seal is not.
    const parts = good.split("*"); // stepup=Fe26.2, id, salt, iv, data, expiration, hmac salt, hmac~2
    const data = parts[4] ?? "";
    parts[4] = (data[0] === "A" ? "B" : "A") + data.slice(1);
    const spliced = parts.join("*");
    expect(spliced.slice(-100)).toBe(good.slice(-100));
    expect(cookie.peek(spliced, now)).toBeUndefined();
    unseal.mockClear();
    expect(await cookie.read(spliced, now)).toBeUndefined();
    expect(unseal).toHaveBeenCalledTimes(1); // checked by iron, and refused
  });

  it("values not shaped like our seals are refused without unsealing", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const sealed = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url)).slice("stepup=".length);
    const now = Date.now();
    for (const bad of [
      "garbage",
      "Fe26.2*1*x*y*z*1*a*b~2",
      sealed.replace(/~2$/, ""), // an iron seal without iron-session's version: not one we issue
      sealed.replace(/^Fe26\.2\*1\*/, "Fe26.2*9*"), // a password id we do not have
      sealed.replace(/\*(\d+)\*/, "*x$1*"), // a non-numeric expiration
      `${sealed}*extra`,
      sealed.replace("*", "**"),
    ]) {
      expect(await cookie.read(`stepup=${bad}`, now)).toBeUndefined();
    }
    expect(unseal).not.toHaveBeenCalled();
    expect(await cookie.read(`stepup=${sealed}`, now)).toEqual({ sid: "s1", uid: "alice" }); // control
    expect(unseal).toHaveBeenCalledTimes(1);
  });
});
