import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, outcome, testEngine } from "../../test/helpers.js";
import { keys } from "../internal/keys.js";
import { totp } from "./totp.js";

const vectors = JSON.parse(
  readFileSync(new URL("../../test/vectors/rfc6238-totp.json", import.meta.url), "utf8"),
) as { vectors: { time: number; SHA1: string }[] };
const hotp = JSON.parse(
  readFileSync(new URL("../../test/vectors/rfc4226-hotp.json", import.meta.url), "utf8"),
) as {
  vectors: { counter: number; hotp: string }[];
};

/**
 * The vectors are decades before the enrollment (its confirmation used today's step, and older
 * steps are refused from then on): forget that step, as a user enrolled in 1970 would have.
 */
function forgetLastStep(t: ReturnType<typeof testEngine>): void {
  void t.store.delete(alice.id, [keys.plugin("totp", "last-step")]);
}

describe("totp factor", () => {
  it("enrollment returns a 160-bit base32 secret, an otpauth URI and a PNG QR code", async () => {
    const t = testEngine();
    const started = (await t.engine.factors.enrollStart(alice, "totp", {}, undefined)) as Record<
      string,
      string
    >;
    expect(started.secret).toMatch(/^[A-Z2-7]{32}$/); // 32 base32 chars = 160 bits
    expect(started.otpauthUri).toMatch(/^otpauth:\/\/totp\/Test:alice%40example\.com\?secret=/);
    expect(started.qrCode).toMatch(/^data:image\/png;base64,/);
  });

  it.each(vectors.vectors)(
    "RFC 6238 vector at T=$time: the engine accepts the last 6 digits of $SHA1",
    async ({ time, SHA1 }) => {
      const t = testEngine();
      await enrollAlice(t);
      forgetLastStep(t);
      t.clock.set(time * 1000);
      const { challenge } = await t.engine.openChallenge(
        alice,
        "sid-1",
        t.engine.rules.lookup("admin", "read"),
      );
      const result = await t.engine.challenges.verify(alice, "sid-1", challenge.id, {
        factor: "totp",
        code: SHA1.slice(-6),
      });
      expect(result.assurance.factor).toBe("totp");
    },
  );

  it.each(hotp.vectors)(
    "RFC 4226 vector: counter $counter (T=counter*30 s) accepts $hotp",
    async ({ counter, hotp }) => {
      const t = testEngine();
      await enrollAlice(t);
      forgetLastStep(t);
      t.clock.set(counter * 30_000);
      const { challenge } = await t.engine.openChallenge(
        alice,
        "sid-1",
        t.engine.rules.lookup("admin", "read"),
      );
      await expect(
        t.engine.challenges.verify(alice, "sid-1", challenge.id, { factor: "totp", code: hotp }),
      ).resolves.toBeDefined();
    },
  );

  it("the secret is encrypted at rest: the store never holds the base32 seed", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const hash = await t.store.hashGetAll("alice", "factors");
    const raw = Object.values(hash).join("");
    expect(raw).not.toContain("GEZDGNBVGY3TQOJQ");
    expect(raw).toMatch(/"secret":"v1\.[A-Za-z0-9_-]{8}\./);
  });

  it("window: the previous step is accepted, two steps back and the next step are not", async () => {
    const t = testEngine();
    await enrollAlice(t);
    t.clock.advance(30_000); // past the step the confirmation used (single use)
    const now = t.clock.now();
    const rule = t.engine.rules.lookup("admin", "read");
    const attempt = async (code: string) => {
      const { challenge } = await t.engine.openChallenge(alice, "s", rule);
      return t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code }).then(
        () => "ok",
        (e: { code: string }) => e.code,
      );
    };
    expect(await attempt(await codeAt(now - 60_000))).toBe("INVALID_CODE");
    expect(await attempt(await codeAt(now + 30_000))).toBe("INVALID_CODE");
    expect(await attempt(await codeAt(now - 30_000))).toBe("ok");
  });

  it("a code for an older step is refused once a newer one was used (a phished code goes stale)", async () => {
    // Before: code(S+3) then code(S+2) were both accepted at S+3 (each step once, in any order).
    const t = testEngine({ factors: [totp({ window: { past: 2 } })] });
    await enrollAlice(t);
    t.clock.advance(60_000);
    const now = t.clock.now();
    const rule = t.engine.rules.lookup("admin", "read");
    const attempt = async (code: string) => {
      const { challenge } = await t.engine.openChallenge(alice, "s", rule);
      return outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code }));
    };
    const older = await codeAt(now - 30_000);
    expect(await attempt(await codeAt(now))).toBe("ok");
    expect(await attempt(older)).toBe("INVALID_CODE");
    expect(t.events.at(-1)).toMatchObject({ type: "verification.failed", metadata: { reason: "REPLAYED" } });
  });

  it("of concurrent uses of two steps, the older never lands after the newer (across processes: atomic)", async () => {
    const t = testEngine({ factors: [totp({ window: { past: 2 } })], limits: { perChallenge: 50 } });
    await enrollAlice(t);
    t.clock.advance(60_000);
    const now = t.clock.now();
    const rule = t.engine.rules.lookup("admin", "read");
    const codes = [await codeAt(now - 30_000), await codeAt(now)];
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const { challenge } = await t.engine.openChallenge(alice, "s", rule);
        const code = codes[i % 2] ?? "";
        return [
          i % 2,
          await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code })),
        ];
      }),
    );
    const accepted = results.filter(([, r]) => r === "ok").map(([step]) => step);
    // Each step at most once, the newer always; afterwards the older is refused for good.
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(accepted).toContain(1);
    const { challenge } = await t.engine.openChallenge(alice, "s", rule);
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code: codes[0] })),
    ).toBe("INVALID_CODE");
  });

  it("bad code input (wrong type, letters, wrong length) is INVALID_INPUT, not a guess", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    for (const code of [123456, "12345", "1234567", "abcdef", null, { $gt: "" }]) {
      await expect(
        t.engine.challenges.verify(alice, "s", challenge.id, { factor: "totp", code }),
      ).rejects.toMatchObject({
        code: "INVALID_INPUT",
      });
    }
  });
});
