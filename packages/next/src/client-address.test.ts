// Threat: a client that writes its own X-Forwarded-For to get a fresh per-address guessing budget
// on every request ("X-Forwarded-For: 1.2.3.<n>"), when the adapter trusts the first entry.
import { describe, expect, it } from "vitest";
import { forwardedHop, trustedHops } from "./client-address.js";

describe("client address behind proxies", () => {
  it("takes the entry the last trusted proxy wrote, never the client's own first entry", () => {
    expect(forwardedHop("6.6.6.6, 203.0.113.7", 1)).toBe("203.0.113.7");
    expect(forwardedHop("6.6.6.6, 7.7.7.7, 203.0.113.7, 10.0.0.2", 2)).toBe("203.0.113.7");
    expect(forwardedHop("203.0.113.7", 1)).toBe("203.0.113.7");
    // Fewer entries than proxies: the header did not come through all of them.
    expect(forwardedHop("203.0.113.7", 2)).toBeUndefined();
    expect(forwardedHop("203.0.113.7", 0)).toBeUndefined();
    expect(forwardedHop(null, 1)).toBeUndefined();
  });

  it("trustProxy is true, false or a small number of hops; anything else throws at start-up", () => {
    expect([trustedHops(undefined), trustedHops(false), trustedHops(true), trustedHops(3)]).toEqual([
      0, 0, 1, 3,
    ]);
    for (const bad of [0, -1, 1.5, 11]) expect(() => trustedHops(bad)).toThrow(/trustProxy/);
  });
});
