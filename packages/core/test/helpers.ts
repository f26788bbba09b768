import { generate } from "otplib";
import {
  createStepUp,
  memoryStore,
  recoveryCodes,
  type StepUpOptions,
  type Store,
  totp,
} from "../src/index.js";
import type { NeedsStepUp } from "../src/policy/own-actions.js";
import type { StepUpEvent } from "../src/types.js";

/** RFC 6238 appendix B SHA-1 seed: injected as the "random" TOTP secret so vectors apply. */
export const RFC_SEED = new TextEncoder().encode("12345678901234567890");
export const RFC_SEED_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

export function fakeClock(startMs = 1_700_000_000_000) {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

/**
 * An engine on the memory store with a fake clock, collecting its events. Engines standing for two
 * processes share a `store` (and a `clock`); a clock starting now suits real receivers that check
 * timestamps (webhooks).
 */
export function testEngine(
  overrides: Partial<StepUpOptions> = {},
  store: Store | undefined = undefined,
  clock: ReturnType<typeof fakeClock> = fakeClock(),
) {
  const events: StepUpEvent[] = [];
  const s = store ?? memoryStore({ clock });
  let seeded = false;
  const engine = createStepUp({
    store: s,
    secret: "test-secret-test-secret-test-secret-0123",
    appName: "Test",
    factors: [totp(), recoveryCodes()],
    clock,
    // The first random draw of 20 bytes is the TOTP secret: make it the RFC seed.
    randomBytes: (n) => {
      if (n === 20 && !seeded) {
        seeded = true;
        return RFC_SEED.slice();
      }
      return crypto.getRandomValues(new Uint8Array(n));
    },
    onEvent: (e) => void events.push(e),
    logger: { warn() {}, error() {} },
    ...overrides,
  });
  return { engine, clock, events, store: s };
}

/** The 6-digit code for the RFC seed at a given time. */
export function codeAt(ms: number): Promise<string> {
  return generate({ secret: RFC_SEED_BASE32, epoch: Math.floor(ms / 1000) });
}

export const alice = { id: "alice", email: "alice@example.com" };

/** The answer of an engine call that must not need a step-up (fails the test if it does). */
export function done<T>(result: T | NeedsStepUp): T {
  if (typeof result === "object" && result !== null && "stepUpRequired" in result) {
    const { resource, action } = result.stepUpRequired;
    throw new Error(`unexpected: a step-up for ${resource}:${action} is required`);
  }
  return result as T;
}

/** Enrolls TOTP for alice (her first factor) and moves the clock past the step used to confirm. */
export async function enrollAlice(t: ReturnType<typeof testEngine>) {
  const started = done(await t.engine.factors.enrollStart(alice, "totp", {}, undefined)) as {
    factorId: string;
    secret: string;
  };
  const confirmed = done(
    await t.engine.factors.enrollConfirm(
      alice,
      "totp",
      started.factorId,
      { code: await codeAt(t.clock.now()) },
      undefined,
    ),
  );
  t.clock.advance(30_000);
  return { ...started, recoveryCodes: confirmed.recoveryCodes ?? [] };
}

/**
 * Steps alice up with her (RFC-seed) TOTP factor in session `sid` for `resource:action` (default
 * `test:step-up`), then moves the clock by `advanceMs` (default past the step); the rotated session id.
 */
export async function stepUpAlice(
  t: ReturnType<typeof testEngine>,
  sid = "s0",
  { resource = "test", action = "step-up", advanceMs = 30_000 } = {},
): Promise<string> {
  const { challenge } = await t.engine.openChallenge(alice, sid, t.engine.rules.lookup(resource, action));
  const result = await t.engine.challenges.verify(alice, sid, challenge.id, {
    factor: "totp",
    code: await codeAt(t.clock.now()),
  });
  t.clock.advance(advanceMs);
  return result.sid;
}

/** A promise's outcome as a value: "ok" or the StepUpError code. */
export const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (e: { code: string }) => e.code,
  );

/** A 6-digit code that is certainly not `code`. */
export function wrong(code: string): string {
  return code === "000000" ? "111111" : "000000";
}

/** A point where a store call waits: `reached` once a matching call arrives, which then waits for `open()`. */
export interface StoreGate {
  reached: Promise<void>;
  open(): void;
}

/** A store whose every call goes through `around(name, args, call)` (`call` runs it on `inner`). */
export function interceptStore(
  inner: Store,
  around: (name: string, args: unknown[], call: () => unknown) => unknown,
): Store {
  return Object.fromEntries(
    Object.entries(inner).map(([name, fn]) => [
      name,
      (...args: unknown[]) =>
        around(name, args, () => (fn as (...a: unknown[]) => unknown).apply(inner, args)),
    ]),
  ) as unknown as Store;
}

/** `inner` with some methods replaced (the rest call `inner`). */
export function storeWith(inner: Store, overrides: Partial<Store>): Store {
  return { ...interceptStore(inner, (_name, _args, call) => call()), ...overrides };
}

/**
 * A store whose calls can be held, to put concurrent operations in a chosen order: `hold` returns a
 * gate that the first later call of one of `methods` whose arguments match stops at.
 */
export function gatedStore(inner: Store) {
  const holds: {
    methods: string[];
    match: (args: unknown[]) => boolean;
    reach(): void;
    opened: Promise<void>;
  }[] = [];
  const store = interceptStore(inner, async (name, args, call) => {
    const i = holds.findIndex((h) => h.methods.includes(name) && h.match(args));
    const held = i === -1 ? undefined : holds.splice(i, 1)[0];
    if (held) {
      held.reach();
      await held.opened;
    }
    return call();
  });
  function hold(methods: string[], match: (args: unknown[]) => boolean): StoreGate {
    let reach = () => {};
    let open = () => {};
    const reached = new Promise<void>((r) => {
      reach = r;
    });
    const opened = new Promise<void>((r) => {
      open = r;
    });
    holds.push({ methods, match, reach, opened });
    return { reached, open };
  }
  return { store, hold };
}
