/**
 * How many proxies in front of the app append to `X-Forwarded-For` (`true` = one). Each appends
 * the address it received the request from, so with `n` of them the client is the n-th entry from
 * the right; everything further left was written by the client and proves nothing.
 */
export type TrustProxy = boolean | number;

/** `trustProxy` as a number of hops (0: trust no forwarded header). */
export function trustedHops(trustProxy: TrustProxy | undefined, option = "trustProxy"): number {
  if (trustProxy === undefined || trustProxy === false) return 0;
  if (trustProxy === true) return 1;
  if (!Number.isInteger(trustProxy) || trustProxy < 1 || trustProxy > 10) {
    throw new TypeError(`stepup: option \`${option}\` must be true, false or the number of proxies (1-10)`);
  }
  return trustProxy;
}

/**
 * The value a trusted proxy wrote in a comma-separated forwarding header: the `hops`-th entry
 * from the right, never the first (which the client chose). Undefined when there are fewer
 * entries than trusted proxies (the header did not come through them) or none is trusted.
 *
 * @example
 * forwardedHop("6.6.6.6, 203.0.113.7", 1) // "203.0.113.7": the proxy saw the client at .7
 */
export function forwardedHop(value: string | null, hops: number): string | undefined {
  if (hops === 0 || !value) return undefined;
  const entries = value.split(",").map((e) => e.trim());
  const hop = entries[entries.length - hops];
  return hop ? hop : undefined;
}
