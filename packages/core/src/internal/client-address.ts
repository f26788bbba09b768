import { isIPv4, isIPv6 } from "node:net";

/**
 * The group a client address is counted in for per-address limits. IPv4: the address. IPv6: its
 * /64 prefix, because one subscriber usually holds a whole /64 and could otherwise rotate through
 * 2^64 addresses. IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) counts as
 * the IPv4 address. Anything else (a proxy header that is not an address) is kept as given, capped
 * in length, so it still counts rather than switching the limit off.
 *
 * @example
 * clientGroup("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 */
export function clientGroup(address: string): string {
  const ip = address
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return `raw:${ip.slice(0, 64)}`;
  const groups = expandIPv6(ip);
  const mapped = /^0:0:0:0:0:ffff:/.test(groups.join(":"));
  if (mapped) {
    const tail = ip.slice(ip.lastIndexOf(":") + 1);
    if (isIPv4(tail)) return tail;
    const hi = Number.parseInt(groups[6] ?? "0", 16);
    const lo = Number.parseInt(groups[7] ?? "0", 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
  }
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lowercase, without leading zeros. */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split(".").map(Number);
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16).toString(16));
}
