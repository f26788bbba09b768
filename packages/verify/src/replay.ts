/**
 * Single use of step-up tokens by `jti`: `seen` records an id and says whether this is its first
 * use, atomically (two concurrent calls with one id: exactly one gets `true`).
 *
 * One process can use {@link memoryReplayCache}; several processes (replicas, serverless) need a
 * shared one, e.g. Redis `SET key 1 NX EX ttl` (see the README).
 */
export interface ReplayCache {
  /**
   * Records `jti` until `expiresAtSeconds` (Unix time: the token's `exp` plus the clock tolerance,
   * after which the token is refused anyway).
   * @returns `true` the first time, `false` for a replay
   */
  seen(jti: string, expiresAtSeconds: number): Promise<boolean>;
}

/** Options of {@link memoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Most ids held at once; when full (after dropping expired ones) `seen` throws: fail closed. @default 100000 */
  maxEntries?: number;
  /** Injectable time (tests): milliseconds since the epoch. */
  clock?: { now(): number };
}

/**
 * An in-memory {@link ReplayCache} for ONE process: ids live until their token expires. With
 * several processes a token refused here is accepted by a neighbour: use a shared store there.
 *
 * @example
 * import { createStepUpVerifier, memoryReplayCache } from "@stepup/verify";
 *
 * const verifier = createStepUpVerifier({
 *   jwksUrl: "https://app.example.com/stepup/.well-known/jwks.json",
 *   issuer: "https://app.example.com",
 *   audience: "payments",
 *   resource: "payment",
 *   action: "send",
 *   replay: memoryReplayCache(),
 * });
 */
export function memoryReplayCache(options: MemoryReplayCacheOptions = {}): ReplayCache {
  if (typeof options !== "object" || options === null)
    throw new TypeError("@stepup/verify: memoryReplayCache options must be an object");
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError("@stepup/verify: option `maxEntries` must be a whole number of at least 1");
  const clock = options.clock ?? Date;
  if (typeof clock.now !== "function")
    throw new TypeError("@stepup/verify: option `clock` must have a now() method");
  const ids = new Map<string, number>();

  const sweep = (nowSeconds: number) => {
    for (const [id, until] of ids) if (until <= nowSeconds) ids.delete(id);
  };

  return {
    // Synchronous inside: check and set happen in one turn of the event loop, so concurrent
    // calls cannot both see "absent".
    async seen(jti: string, expiresAtSeconds: number): Promise<boolean> {
      const nowSeconds = clock.now() / 1000;
      const until = ids.get(jti);
      if (until !== undefined && until > nowSeconds) return false;
      if (ids.size >= maxEntries) {
        sweep(nowSeconds);
        if (ids.size >= maxEntries) throw new Error("@stepup/verify: the memory replay cache is full");
      }
      ids.set(jti, expiresAtSeconds);
      return true;
    },
  };
}
