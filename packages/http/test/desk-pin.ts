import {
  type CodeSent,
  type FactorContext,
  type FactorPlugin,
  type FactorUi,
  StepUpError,
  type StepUpErrorCode,
} from "@stepup/core";

/**
 * A throwaway send-first factor no page knows: a 4-digit PIN "sent" to a desk (kept in `outbox` for
 * the test to read). It exists to prove the pages render a factor from its declaration alone.
 */
export interface DeskPin {
  plugin: FactorPlugin;
  /** Every PIN sent, newest last. */
  outbox: { desk: string; code: string }[];
  /** The next sends fail with this code (and Retry-After), until cleared. */
  failWith?: { code: Extract<StepUpErrorCode, "RATE_LIMITED" | "DELIVERY_FAILED">; retryAfter?: number };
}

const EXPIRES_MS = 10 * 60_000;
const RESEND_MS = 30_000;

/** Overridable pieces of the declaration (the escaping test makes them hostile). */
export function deskPin(ui: Partial<FactorUi> = {}): DeskPin {
  const pin: DeskPin = { outbox: [], plugin: undefined as unknown as FactorPlugin };

  async function send(ctx: FactorContext, desk: string, key: string): Promise<CodeSent> {
    if (pin.failWith) {
      const { code, retryAfter } = pin.failWith;
      throw new StepUpError(
        code,
        code === "RATE_LIMITED" ? "Too many codes sent." : "The desk phone is off.",
        {
          ...(retryAfter === undefined ? {} : { retryAfter }),
        },
      );
    }
    const previous = await ctx.store.get(key);
    if (previous && ctx.nowMs < (JSON.parse(previous) as CodeSent).resendAfterMs)
      throw new StepUpError("RATE_LIMITED", "Wait before asking for another code.", { retryAfter: 30 });
    const bytes = ctx.randomBytes(2);
    const code = String((((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) % 10_000).padStart(4, "0");
    pin.outbox.push({ desk, code });
    const sent: CodeSent = {
      sent: true,
      destination: `desk ${desk}`,
      expiresAtMs: ctx.nowMs + EXPIRES_MS,
      resendAfterMs: ctx.nowMs + RESEND_MS,
    };
    await ctx.store.set(key, JSON.stringify({ ...sent, code }), EXPIRES_MS / 1000);
    return sent;
  }

  const answer = (s: CodeSent) => ({
    sent: true,
    destination: s.destination,
    expiresAt: new Date(s.expiresAtMs).toISOString(),
    resendAfter: new Date(s.resendAfterMs).toISOString(),
  });

  pin.plugin = {
    type: "pin",
    level: "mfa",
    amr: ["otp"],
    ui: {
      title: "Desk PIN",
      prompt: { kind: "code", label: "Desk PIN", digits: 4, send: true },
      enroll: {
        button: "Add desk PIN",
        title: "Set up your desk PIN",
        fields: [{ name: "desk", label: "Desk number", type: "text", required: true }],
      },
      ...ui,
    },
    describe: (f) => ({ destination: `desk ${String(f.data.desk)}` }),
    async enrollStart(ctx, factorId, input) {
      const desk = (input as { desk?: unknown }).desk;
      if (typeof desk !== "string" || !/^[0-9]{1,4}$/.test(desk))
        throw new StepUpError("INVALID_INPUT", "Enter your desk number.", { field: "desk" });
      const sent = await send(ctx, desk, `enroll:${factorId}`);
      return { pending: { desk }, response: answer(sent), name: `Desk ${desk}` };
    },
    async enrollResume(ctx, factorId) {
      const raw = await ctx.store.get(`enroll:${factorId}`);
      return raw ? answer(JSON.parse(raw) as CodeSent) : {};
    },
    async enrollConfirm(ctx, factorId, pending, input) {
      const raw = await ctx.store.get(`enroll:${factorId}`);
      const code = (input as { code?: unknown }).code;
      if (!raw || (JSON.parse(raw) as { code: string }).code !== code) return null;
      await ctx.store.delete([`enroll:${factorId}`]);
      return { data: { desk: pending.desk } };
    },
    async challengeStart(ctx, factor, challenge) {
      return answer(await send(ctx, String(factor.data.desk), `challenge:${challenge.id}:${factor.id}`));
    },
    async challengeStatus(ctx, factor, challenge) {
      const raw = await ctx.store.get(`challenge:${challenge.id}:${factor.id}`);
      if (!raw) return null;
      const { code: _code, ...sent } = JSON.parse(raw) as CodeSent & { code: string };
      return sent;
    },
    async verify(ctx, factor, challenge, input) {
      const key = `challenge:${challenge.id}:${factor.id}`;
      const raw = await ctx.store.get(key);
      const code = (input as { code?: unknown }).code;
      if (!raw || (JSON.parse(raw) as { code: string }).code !== code)
        return { ok: false, reason: "INVALID_CODE" };
      await ctx.store.delete([key]);
      return { ok: true };
    },
  };
  return pin;
}
