import { StepUpError } from "../errors.js";
import type { FactorContext, FactorPlugin, FactorUi } from "./factor.js";

/** Options of the recovery-code factor. */
export interface RecoveryCodesOptions {
  /** How many codes a user gets. @default 10 */
  count?: number;
}

/** The recovery factor: a `FactorPlugin` plus what the engine needs to issue codes. */
export interface RecoveryCodesPlugin extends FactorPlugin {
  readonly type: "recovery";
  /** Replaces the user's codes with new ones (old ones die) and returns them, shown once. */
  issue(ctx: FactorContext): Promise<string[]>;
  /** How many unused codes the user has. */
  remaining(ctx: FactorContext): Promise<number>;
  /** Deletes every code of the user. */
  clear(ctx: FactorContext): Promise<void>;
}

const RECOVERY_UI: FactorUi = Object.freeze<FactorUi>({
  title: "Recovery code",
  prompt: {
    kind: "code",
    label: "Recovery code",
    hint: "Each recovery code works once.",
    maxLength: 32,
    placeholder: "XXXX-XXXX-XXXX-XXXX",
    submit: "Use recovery code",
  },
});

/** Crockford's base32 alphabet: no I, L, O, U, so codes survive being read aloud or written down. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_BYTES = 10; // 80 bits from a CSPRNG, 16 characters
const KEY = "codes";
/**
 * Held while a user's codes are being replaced. Replacing is a delete and then one write per code:
 * two at once interleave and leave codes of both sets (up to twice `count`), so the user holds
 * codes nobody was shown as theirs. The TTL only matters when a holder dies: it outlasts any issue
 * (every store call has its own deadline).
 */
const ISSUING = "issuing";
const ISSUING_TTL_SECONDS = 60;

function encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join("-") ?? out;
}

/** Normalises a typed code: case, spaces, dashes and the look-alikes I/L -> 1, O -> 0. */
function normalize(input: unknown): string {
  const code = typeof input === "object" && input !== null ? (input as { code?: unknown }).code : undefined;
  if (typeof code !== "string" || code.length > 64) {
    throw new StepUpError("INVALID_INPUT", "`code` must be a recovery code.", { field: "code" });
  }
  const plain = code.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (!/^[0-9A-HJKMNP-TV-Z]{16}$/.test(plain)) {
    throw new StepUpError("INVALID_INPUT", "A recovery code has 16 letters and digits.", { field: "code" });
  }
  return plain;
}

/**
 * Single-use recovery codes. Issued when a user confirms their first factor; each code is stored
 * only as a keyed hash (one field of a per-user hash), and using one deletes its field: the store's
 * atomic `hashDelete` returns true to exactly one of any number of concurrent uses.
 *
 * @example
 * createStepUp({ ..., factors: [totp(), recoveryCodes({ count: 10 })] })
 */
export function recoveryCodes(options: RecoveryCodesOptions = {}): RecoveryCodesPlugin {
  const count = options.count ?? 10;
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new TypeError("recoveryCodes: `count` must be an integer from 1 to 100");
  }
  const enrollDirectly = () => {
    throw new StepUpError("NOT_FOUND", "Recovery codes are issued with your first factor, not enrolled.");
  };

  return Object.freeze({
    type: "recovery",
    level: "mfa",
    amr: ["otp"],
    recovery: true,
    ui: RECOVERY_UI,
    enrollStart: async () => enrollDirectly(),
    enrollConfirm: async () => enrollDirectly(),
    async issue(ctx) {
      // One replacement at a time per user (a double click, two tabs, two processes): the second
      // is refused, so every set a response shows is the one that works.
      // The lock holds this issue's own mark, so a release that comes late (the lock expired while a
      // store call hung, and another issue holds it now) cannot free the other's.
      const mark = Buffer.from(ctx.randomBytes(16)).toString("hex");
      if (!(await ctx.store.setIfAbsent(ISSUING, mark, ISSUING_TTL_SECONDS))) {
        throw new StepUpError(
          "RATE_LIMITED",
          "New recovery codes are already being issued. Try again in a moment.",
          {
            retryAfter: 1,
          },
        );
      }
      try {
        const codes = Array.from({ length: count }, () => encode(ctx.randomBytes(CODE_BYTES)));
        // Old codes die before the new ones exist: a race with a use of an old code cannot revive it.
        await ctx.store.delete([KEY]);
        for (const code of codes) await ctx.store.hashSet(KEY, ctx.keyring.hash(code.replace(/-/g, "")), "1");
        await ctx.emit({ type: "recovery.regenerated", factor: "recovery" });
        return codes;
      } finally {
        // Best effort: a store that fails here keeps the lock until its TTL, which only delays the next issue.
        await ctx.store.deleteIfEquals(ISSUING, mark).catch(() => {});
      }
    },
    async remaining(ctx) {
      return Object.keys(await ctx.store.hashGetAll(KEY)).length;
    },
    async clear(ctx) {
      await ctx.store.delete([KEY]);
    },
    checkInput(input) {
      normalize(input);
    },
    async verify(ctx, factor, _challenge, input) {
      const code = normalize(input);
      for (const hashed of ctx.keyring.hashAll(code)) {
        if (await ctx.store.hashDelete(KEY, hashed)) {
          await ctx.emit({ type: "recovery.used", factor: "recovery", factorId: factor.id });
          return { ok: true };
        }
      }
      return { ok: false, reason: "INVALID_CODE" };
    },
  } satisfies RecoveryCodesPlugin);
}
