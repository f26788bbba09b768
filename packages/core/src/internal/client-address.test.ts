// Threat: an attacker with an IPv6 /64 (one home connection) rotating addresses to reset the
// per-address guessing limit; a dual-stack server seeing one IPv4 client under two spellings.
import { describe, expect, it } from "vitest";
import { clientGroup } from "./client-address.js";

describe("client address groups for per-address limits", () => {
  it("every address of one IPv6 /64 counts as one client", () => {
    const a = clientGroup("2001:db8:1:2::1");
    expect(a).toBe("2001:db8:1:2::/64");
    for (const other of [
      "2001:0db8:0001:0002:ffff:ffff:ffff:ffff",
      "2001:DB8:1:2:abcd::9",
      "[2001:db8:1:2::7]",
    ])
      expect(clientGroup(other)).toBe(a);
    expect(clientGroup("2001:db8:1:3::1")).not.toBe(a);
    expect(clientGroup("::1")).toBe("0:0:0:0::/64");
    expect(clientGroup("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("IPv4 counts per address, and IPv4-mapped IPv6 is the same IPv4 client", () => {
    expect(clientGroup("192.0.2.1")).toBe("192.0.2.1");
    expect(clientGroup("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientGroup("::ffff:c000:201")).toBe("192.0.2.1");
    expect(clientGroup("192.0.2.2")).not.toBe("192.0.2.1");
  });

  it("a value that is not an address still counts (capped), never switching the limit off", () => {
    expect(clientGroup("unknown")).toBe("raw:unknown");
    expect(clientGroup("x".repeat(500))).toHaveLength(4 + 64);
  });
});
