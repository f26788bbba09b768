import { type StepUpOptions, type Store } from "../src/index.js";
import type { NeedsStepUp } from "../src/policy/own-actions.js";
import type { StepUpEvent } from "../src/types.js";
/** RFC 6238 appendix B SHA-1 seed: injected as the "random" TOTP secret so vectors apply. */
export declare const RFC_SEED: Uint8Array<ArrayBuffer>;
export declare const RFC_SEED_BASE32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
export declare function fakeClock(startMs?: number): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
};
/** An engine on the memory store with a fake clock, collecting its events. */
export declare function testEngine(
  overrides?: Partial<StepUpOptions>,
  store?: Store | undefined,
): {
  engine: Readonly<{
    config: import("../src/config.js").ResolvedConfig;
    rules: {
      declare(
        resource: string,
        action: string,
        options?: import("../src/types.js").RuleOptions,
        where?: string,
      ): import("../src/types.js").Rule;
      lookup(resource: unknown, action: unknown): import("../src/types.js").Rule;
      has: (resource: string, action: string) => boolean;
      types: Set<string>;
    };
    challenges: {
      load: (uid: string, id: unknown) => Promise<import("../src/types.js").Challenge>;
      show(
        user: import("../src/types.js").StepUpUser,
        sid: string,
        id: unknown,
      ): Promise<import("../src/index.js").OpenedChallenge>;
      open(
        user: import("../src/types.js").StepUpUser,
        sid: string,
        rule: import("../src/types.js").Rule,
        target?: import("../src/index.js").ChallengeTarget,
        offer?: import("../src/index.js").ChallengeOffer,
      ): Promise<import("../src/index.js").OpenedChallenge>;
      start(
        user: import("../src/types.js").StepUpUser,
        sid: string,
        id: unknown,
        input: import("../src/index.js").VerifyInput,
        ip?: string,
      ): Promise<Record<string, unknown>>;
      verify(
        user: import("../src/types.js").StepUpUser,
        sid: string,
        id: unknown,
        input: import("../src/index.js").VerifyInput,
        ip?: string,
      ): Promise<import("../src/index.js").VerifyResult>;
    };
    factors: {
      list: (uid: string) => Promise<import("../src/types.js").FactorRecord[]>;
      enrollStart: (
        user: import("../src/types.js").StepUpUser,
        type: string,
        input: unknown,
        sid: string | undefined,
        ip?: string,
      ) => Promise<Record<string, unknown> | NeedsStepUp>;
      enrollResume: (
        user: import("../src/types.js").StepUpUser,
        type: string,
        factorId: string,
      ) => Promise<
        | {
            factorId: string;
          }
        | undefined
      >;
      enrollConfirm: (
        user: import("../src/types.js").StepUpUser,
        type: string,
        factorId: unknown,
        input: unknown,
        sid: string | undefined,
      ) => Promise<import("../src/index.js").EnrollmentConfirmed | NeedsStepUp>;
      hasFactors(uid: string): Promise<boolean>;
      regenerateRecoveryCodes(
        user: import("../src/types.js").StepUpUser,
        sid: string | undefined,
      ): Promise<
        | {
            recoveryCodes: string[];
          }
        | NeedsStepUp
      >;
      recoveryCodesRemaining(uid: string): Promise<number | null>;
      update(uid: string, factorId: unknown, input: unknown): Promise<import("../src/types.js").FactorRecord>;
      remove(
        user: import("../src/types.js").StepUpUser,
        factorId: unknown,
        sid: string | undefined,
      ): Promise<
        | {
            removed: import("../src/types.js").FactorRecord;
          }
        | NeedsStepUp
      >;
    };
    sessions: {
      check(
        uid: string,
        sid: string | undefined,
        rule: import("../src/types.js").Rule,
        txn?: string,
      ): Promise<import("../src/index.js").FreshnessResult>;
      grant(uid: string, oldSid: string, assurance: import("../src/types.js").Assurance): Promise<string>;
      revokeSession(uid: string, sid: string): Promise<void>;
      revokeUser(uid: string): Promise<void>;
    };
    ownRules: Readonly<Record<import("../src/index.js").OwnAction, import("../src/types.js").Rule>>;
    newSessionId: () => string;
    now: () => number;
    decide: (
      input: import("../src/index.js").DecideInput,
    ) => Promise<import("../src/index.js").StepUpDecision>;
    openChallenge(
      user: import("../src/types.js").StepUpUser,
      sid: string,
      rule: import("../src/types.js").Rule,
      target?: import("../src/index.js").ChallengeTarget,
      offer?: import("../src/index.js").ChallengeOffer,
    ): Promise<import("../src/index.js").OpenedChallenge>;
    revokeSession: (uid: string, sid: string) => Promise<void>;
    revokeUser: (uid: string) => Promise<void>;
    unlockUser(uid: string): Promise<void>;
    hasFactors: (uid: string) => Promise<boolean>;
    offer(factor: import("../src/types.js").FactorRecord): import("../src/types.js").OfferedFactor;
    declareRule(
      resource: string,
      action: string,
      opts?: import("../src/types.js").RuleOptions,
    ): import("../src/types.js").Rule;
  }>;
  clock: {
    now: () => number;
    advance(ms: number): void;
    set(ms: number): void;
  };
  events: StepUpEvent[];
  store: Store;
};
/** The 6-digit code for the RFC seed at a given time. */
export declare function codeAt(ms: number): Promise<string>;
export declare const alice: {
  id: string;
  email: string;
};
/** The answer of an engine call that must not need a step-up (fails the test if it does). */
export declare function done<T>(result: T | NeedsStepUp): T;
/** Enrolls TOTP for alice (her first factor) and moves the clock past the step used to confirm. */
export declare function enrollAlice(t: ReturnType<typeof testEngine>): Promise<{
  factorId: string;
  secret: string;
  recoveryCodes: string[];
}>;
/** Steps alice up with her (RFC-seed) TOTP factor in session `sid`; the rotated session id. */
export declare function stepUpAlice(t: ReturnType<typeof testEngine>, sid?: string): Promise<string>;
/** A promise's outcome as a value: "ok" or the StepUpError code. */
export declare const outcome: (p: Promise<unknown>) => Promise<string>;
/** A 6-digit code that is certainly not `code`. */
export declare function wrong(code: string): string;
//# sourceMappingURL=helpers.d.ts.map
