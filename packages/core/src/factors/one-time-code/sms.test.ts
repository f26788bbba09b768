// Threats: SMS pumping (an attacker makes the app text premium-rate numbers abroad, for a share of
// the fees), malformed numbers reaching the provider, and SMS being accepted where a rule wants
// something stronger.
import { describe, expect, it } from "vitest";
import { codeEngine, codeIn, openFor } from "../../../test/code-factors.js";
import { alice, done, outcome } from "../../../test/helpers.js";
import { countryCode } from "./phone.js";

async function enrollPhone(t: ReturnType<typeof codeEngine>, phone: string) {
  const started = done(await t.engine.factors.enrollStart(alice, "sms", { phone }, undefined)) as {
    factorId: string;
    destination: string;
  };
  const text = t.texts.at(-1)?.text ?? "";
  done(
    await t.engine.factors.enrollConfirm(alice, "sms", started.factorId, { code: codeIn(text) }, undefined),
  );
  return started;
}

describe("sms codes", () => {
  it("enrolls an E.164 number (masked) and steps up with a texted code", async () => {
    const t = codeEngine();
    const started = await enrollPhone(t, "+1 (555) 123-4567");
    expect(started.destination).toBe("+1********67");
    expect(t.texts[0]?.phone).toBe("+15551234567");
    const c = await openFor(t);
    const sent = await t.engine.challenges.start(alice, "s", c.id, { factor: "sms" });
    expect(sent).toMatchObject({ sent: true, destination: "+1********67" });
    const text = t.texts.at(-1)?.text ?? "";
    // One short line, the code first, naming the app and what it is for.
    expect(text).toMatch(/^\d{6} is your Test code to delete account\. It expires in 5 min\./);
    expect(text.length).toBeLessThan(160);
    expect(
      await outcome(t.engine.challenges.verify(alice, "s", c.id, { factor: "sms", code: codeIn(text) })),
    ).toBe("ok");
  });

  it("a malformed number is 400 INVALID_INPUT before anything is sent", async () => {
    const t = codeEngine();
    for (const phone of [
      "5551234567",
      "+0123456789",
      "+1555",
      "+1-555-abc-4567",
      "+1".padEnd(20, "5"),
      15551234567,
    ]) {
      expect(await outcome(t.engine.factors.enrollStart(alice, "sms", { phone }, undefined))).toBe(
        "INVALID_INPUT",
      );
    }
    expect(t.texts).toHaveLength(0);
  });

  it("SMS pumping: sends per country calling code are capped across all users", async () => {
    const t = codeEngine({ sms: { limits: { perCountry: { max: 3, windowSeconds: 3600 } } } });
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = { id: `bot-${i}` };
      results.push(
        await outcome(t.engine.factors.enrollStart(user, "sms", { phone: `+88216000000${i}` }, undefined)),
      );
    }
    expect(results).toEqual(["ok", "ok", "ok", "RATE_LIMITED", "RATE_LIMITED"]);
    // Another country is not held up by it.
    expect(
      await outcome(t.engine.factors.enrollStart(alice, "sms", { phone: "+447700900123" }, undefined)),
    ).toBe("ok");
  });

  it("countries: numbers outside the allowed calling codes are refused before sending", async () => {
    const t = codeEngine({ sms: { countries: ["1", "44"] } });
    expect(
      await outcome(t.engine.factors.enrollStart(alice, "sms", { phone: "+882160000001" }, undefined)),
    ).toBe("INVALID_INPUT");
    expect(
      await outcome(t.engine.factors.enrollStart(alice, "sms", { phone: "+447700900123" }, undefined)),
    ).toBe("ok");
    expect(t.texts).toHaveLength(1);
  });

  it("is declared a restricted authenticator, and a rule can refuse it", async () => {
    const t = codeEngine({ engine: { rules: { "payment:transfer": { factors: ["email", "recovery"] } } } });
    expect(t.engine.config.factors.get("sms")?.ui.restricted).toMatch(/restricted/);
    await enrollPhone(t, "+15551234567");
    const rule = t.engine.rules.lookup("payment", "transfer");
    const { challenge, factors } = await t.engine.openChallenge(alice, "s", rule);
    expect(factors.map((f) => f.type)).not.toContain("sms");
    expect(await outcome(t.engine.challenges.start(alice, "s", challenge.id, { factor: "sms" }))).toBe(
      "FACTOR_NOT_ALLOWED",
    );
  });

  it("finds the country of a number (E.164 calling codes are prefix-free)", () => {
    expect(countryCode("+15551234567")).toBe("1");
    expect(countryCode("+74951234567")).toBe("7");
    expect(countryCode("+447700900123")).toBe("44");
    expect(countryCode("+8821600000")).toBe("882");
    expect(countryCode("+35312345678")).toBe("353");
  });

  it("rejects bad options at construction, naming them", async () => {
    const { sms } = await import("./sms.js");
    expect(() => sms({} as never)).toThrow(/`send/);
    expect(() => sms({ send: async () => {}, countries: ["+1"] })).toThrow(/countries/);
    expect(() => sms({ send: async () => {}, codeTtl: 900 })).toThrow(/codeTtl/);
  });
});
