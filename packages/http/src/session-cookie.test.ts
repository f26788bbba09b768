// Threat: a forged, tampered or replayed-for-another-user step-up cookie.
import { describe, expect, it } from "vitest";
import { createSessionCookie } from "./session-cookie.js";

const options = { name: "stepup", ttlSeconds: 3600, path: "/", sameSite: "Lax" as const };
const url = new URL("http://localhost:3000/");
const local = { url: url.href }; // the request the cookie is read for (plain name: local http)
const cookiePair = (setCookie: string) => setCookie.split(";")[0] ?? "";

describe("step-up cookie", () => {
  it("round-trips { sid, uid } and is httpOnly, SameSite=Lax, not Secure on localhost", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const header = await cookie.issue({ sid: "s1", uid: "alice" }, url);
    expect(header).toMatch(/^stepup=Fe26\.2\*.*; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    expect(await cookie.read(cookiePair(header), Date.now(), local)).toEqual({ sid: "s1", uid: "alice" });
  });

  it("is Secure and named __Host-<name> outside localhost; __Secure-<name> with a domain", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const https = new URL("https://app.example/");
    expect(await cookie.issue({ sid: "s1", uid: "alice" }, https)).toMatch(
      /^__Host-stepup=Fe26\.2\*[^;]*; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure$/,
    );
    expect(cookie.clear(https)).toBe("__Host-stepup=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure");
    expect(cookie.clear(url)).toBe("stepup=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    const shared = createSessionCookie({ ...options, domain: "app.example", secrets: ["a".repeat(32)] });
    expect(await shared.issue({ sid: "s1", uid: "alice" }, https)).toMatch(
      /^__Secure-stepup=Fe26[^;]*; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600; Domain=app\.example; Secure$/,
    );
    const insecure = createSessionCookie({ ...options, secure: false, secrets: ["a".repeat(32)] });
    expect(await insecure.issue({ sid: "s1", uid: "alice" }, https)).toMatch(
      /^stepup=Fe26[^;]*;.*Max-Age=3600$/,
    );
  });

  it("a tampered, truncated, oversized or foreign-key cookie reads as no session", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const other = createSessionCookie({ ...options, secrets: ["b".repeat(32)] });
    const good = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url));
    const sealed = good.slice("stepup=".length);
    const flipped = sealed.slice(0, 40) + (sealed[40] === "A" ? "B" : "A") + sealed.slice(41);
    for (const bad of [
      `stepup=${flipped}`,
      `stepup=${sealed.slice(0, -5)}`,
      "stepup=garbage",
      `stepup=${"x".repeat(10_000)}`,
      cookiePair(await other.issue({ sid: "s1", uid: "alice" }, url)),
    ]) {
      expect(await cookie.read(bad, Date.now(), local)).toBeUndefined();
    }
  });

  it("rotation: a cookie sealed with the previous secret still reads after the new one is added", async () => {
    const before = createSessionCookie({ ...options, secrets: ["old".repeat(11)] });
    const after = createSessionCookie({ ...options, secrets: ["new".repeat(11), "old".repeat(11)] });
    const header = await before.issue({ sid: "s1", uid: "alice" }, url);
    expect(await after.read(cookiePair(header), Date.now(), local)).toEqual({ sid: "s1", uid: "alice" });
  });

  it("the unseal cache honours the seal's own expiry", async () => {
    const cookie = createSessionCookie({ ...options, ttlSeconds: 120, secrets: ["a".repeat(32)] });
    const header = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url));
    expect(await cookie.read(header, Date.now(), local)).toBeDefined();
    expect(await cookie.read(header, Date.now(), local)).toBeDefined(); // cached
    expect(await cookie.read(header, Date.now() + 10 * 60_000, local)).toBeUndefined(); // past the seal's expiry
  });

  it("peek answers from the cache only: unknown before the first read, the session after it", async () => {
    const cookie = createSessionCookie({ ...options, secrets: ["a".repeat(32)] });
    const header = cookiePair(await cookie.issue({ sid: "s1", uid: "alice" }, url));
    expect(cookie.peek(header, Date.now(), local)).toBeUndefined();
    await cookie.read(header, Date.now(), local);
    expect(cookie.peek(header, Date.now(), local)).toEqual({ sid: "s1", uid: "alice" });
    expect(cookie.peek("other=1", Date.now(), local)).toBeNull();
    const forged = `${header.slice(0, -3)}${header.endsWith("A") ? "BBB" : "AAA"}`; // bad MAC, valid shape
    expect(await cookie.read(forged, Date.now(), local)).toBeUndefined();
    expect(cookie.peek(forged, Date.now(), local)).toBeUndefined(); // refusals are not cached: `read` decides
  });
});
