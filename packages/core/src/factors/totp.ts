import { generateURI, ScureBase32Plugin, verify } from "otplib";
import { StepUpError } from "../errors.js";
import type { FactorContext, FactorPlugin, FactorUi } from "./factor.js";

/**
 * qrcode, loaded on first use: only an enrolment draws a QR code, and a process that serves
 * step-ups only never needs it (~1 MB of heap, and its start-up).
 */
let qrcode: Promise<typeof import("qrcode")> | undefined;

/** Options of the TOTP factor (RFC 6238). */
export interface TotpOptions {
  /**
   * Accepted time steps around now: `past` previous steps and `future` next ones.
   * @default { past: 1, future: 0 } (the current step plus one previous: clock drift and typing time)
   */
  window?: { past?: number; future?: number };
  /** Issuer shown in authenticator apps. @default the `appName` of the step-up config */
  issuer?: string;
}

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const SECRET_BYTES = 20; // 160 bits: RFC 4226 section 4 recommends 160.
const base32 = new ScureBase32Plugin();
/** The plugin's key for the last accepted time step of the user (any of their TOTP factors). */
const LAST_STEP = "last-step";

const TOTP_UI: FactorUi = Object.freeze<FactorUi>({
  title: "Authenticator app",
  prompt: {
    kind: "code",
    label: "Verification code",
    hint: "Open your authenticator app and enter the current 6-digit code for {appName}.",
    digits: DIGITS,
    placeholder: "000000",
  },
  enroll: {
    button: "Add authenticator app",
    title: "Set up your authenticator app",
    confirmLabel: "Code from the app",
  },
});

/** Reads a 6-digit code from untrusted input, or throws INVALID_INPUT naming the field. */
export function readCode(input: unknown, digits = DIGITS): string {
  const code = typeof input === "object" && input !== null ? (input as { code?: unknown }).code : undefined;
  if (typeof code !== "string")
    throw new StepUpError("INVALID_INPUT", "`code` must be a string.", { field: "code" });
  const trimmed = code.replace(/[\s-]/g, "");
  if (trimmed.length !== digits || !/^[0-9]+$/.test(trimmed)) {
    throw new StepUpError("INVALID_INPUT", `\`code\` must be ${digits} digits.`, { field: "code" });
  }
  return trimmed;
}

function secretOf(ctx: FactorContext, factorId: string, data: Record<string, unknown>): string {
  if (typeof data.secret !== "string") throw new Error("TOTP factor without a secret");
  return ctx.keyring.open(data.secret, `${ctx.user.id}:${factorId}:totp`);
}

/**
 * Time-based one-time passwords (RFC 6238): SHA-1, 6 digits, 30 s, as every authenticator app expects.
 * The secret is 160 random bits, sealed with AES-256-GCM at rest. Each time step is accepted at most
 * once per user, and never one older than the last accepted, across processes (an atomic
 * compare-and-set in the store).
 *
 * @example
 * createStepUp({ ..., factors: [totp({ window: { past: 1 } })] })
 */
export function totp(options: TotpOptions = {}): FactorPlugin {
  const past = options.window?.past ?? 1;
  const future = options.window?.future ?? 0;
  for (const [name, value] of [
    ["window.past", past],
    ["window.future", future],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 10) {
      throw new TypeError(`totp: \`${name}\` must be an integer from 0 to 10`);
    }
  }
  const tolerance: [number, number] = [past * PERIOD_SECONDS, future * PERIOD_SECONDS];

  async function check(ctx: FactorContext, secret: string, code: string) {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(ctx.nowMs / 1000),
      epochTolerance: tolerance,
    });
    if (!result.valid || !("timeStep" in result))
      return { ok: false as const, reason: "INVALID_CODE" as const };
    // RFC 6238 section 5.2: a code must not be accepted twice, and (section 5.2 again) once a
    // step is used, older ones in the window must not be: a phished code for step S must not work
    // after the user has typed the one for S+1. The last accepted step per user only ever grows
    // (atomic compare-and-set), so of concurrent uses of one step exactly one wins, and an older
    // step is refused on every process. It outlives the window, so nothing older can come back.
    const ttl = (past + future + 2) * PERIOD_SECONDS;
    const newer = await ctx.store.advance(LAST_STEP, result.timeStep, ttl);
    return newer ? { ok: true as const } : { ok: false as const, reason: "REPLAYED" as const };
  }

  async function present(ctx: FactorContext, secret: string) {
    const issuer = options.issuer ?? ctx.appName;
    const label = ctx.user.email ?? ctx.user.name ?? ctx.user.id;
    const otpauthUri = generateURI({ issuer, label, secret });
    qrcode ??= import("qrcode");
    const qrCode = await (await qrcode).toDataURL(otpauthUri, {
      errorCorrectionLevel: "M",
      margin: 1,
      width: 240,
    });
    return { secret, otpauthUri, qrCode };
  }

  return Object.freeze({
    type: "totp",
    level: "mfa",
    amr: ["otp"],
    ui: TOTP_UI,
    async enrollStart(ctx, factorId) {
      const secret = base32.encode(ctx.randomBytes(SECRET_BYTES), { padding: false });
      return {
        pending: { secret: ctx.keyring.seal(secret, `${ctx.user.id}:${factorId}:totp`) },
        response: await present(ctx, secret),
        name: "Authenticator app",
      };
    },
    async enrollResume(ctx, factorId, pending) {
      return present(ctx, secretOf(ctx, factorId, pending));
    },
    async enrollConfirm(ctx, factorId, pending, input) {
      const code = readCode(input);
      const secret = secretOf(ctx, factorId, pending);
      const outcome = await check(ctx, secret, code);
      return outcome.ok ? { data: { secret: pending.secret } } : null;
    },
    checkInput(input) {
      readCode(input);
    },
    async verify(ctx, factor, _challenge, input) {
      const code = readCode(input);
      return check(ctx, secretOf(ctx, factor.id, factor.data), code);
    },
  } satisfies FactorPlugin);
}
