import { describe, expect, it } from "vitest";
import {
  codeInputAttrs,
  hintText,
  planFactors,
  readFactors,
  readTrustedDeviceDays,
  rememberText,
  resendAtMs,
  verifyBody,
} from "./modal-factors.js";
import type { OfferedFactor } from "./types.js";

const code = (over: Partial<OfferedFactor> & { id: string; type: string }): OfferedFactor => ({
  name: over.type,
  primary: false,
  title: over.type,
  prompt: { kind: "code", label: "Code" },
  ...over,
});

describe("readFactors", () => {
  it("keeps the declared prompt, title, destination and recovery flag", () => {
    const [f] = readFactors([
      {
        id: "f1",
        type: "sms",
        name: "Phone",
        primary: true,
        title: "Text message",
        prompt: { kind: "code", label: "Code from the text", digits: 6, send: true, submit: "Go", extra: 1 },
        destination: "+1*******67",
      },
    ]);
    expect(f).toEqual({
      id: "f1",
      type: "sms",
      name: "Phone",
      primary: true,
      title: "Text message",
      prompt: { kind: "code", label: "Code from the text", digits: 6, send: true, submit: "Go" },
      destination: "+1*******67",
    });
    expect(readFactors([{ id: "r", type: "recovery", recovery: true }])[0]?.recovery).toBe(true);
  });

  it("drops malformed entries and reads a missing or odd prompt as a plain code field", () => {
    const factors = readFactors([
      null,
      { id: 1 },
      { id: "a", type: "x", prompt: { kind: "code", digits: 1e9 } },
    ]);
    expect(factors).toEqual([
      { id: "a", type: "x", name: "x", primary: false, title: "x", prompt: { kind: "code", label: "Code" } },
    ]);
    expect(readFactors("nope")).toEqual([]);
  });
});

describe("planFactors", () => {
  const key = code({ id: "k", type: "webauthn", prompt: { kind: "webauthn" } });
  const otp = code({ id: "t", type: "otp" });
  const mail1 = code({ id: "m1", type: "mail" });
  const mail2 = code({ id: "m2", type: "mail", primary: true });
  const rec = code({ id: "r", type: "rc", recovery: true });

  it("groups code factors by type, the primary's group first and primary first within it", () => {
    const plan = planFactors([key, otp, mail1, rec, mail2], true);
    expect(plan.keys).toEqual([key]);
    expect(plan.groups.map((g) => g.map((f) => f.id))).toEqual([["m2", "m1"], ["t"]]);
    expect(plan.recovery?.id).toBe("r");
    expect(plan.unusableKeys).toBe(0);
  });

  it("leaves passkeys out where the browser cannot run them", () => {
    const plan = planFactors([key, rec], false);
    expect(plan).toMatchObject({ keys: [], unusableKeys: 1, groups: [] });
  });
});

describe("code fields", () => {
  it("a numeric code: keypad, one-time-code autofill, exact length", () => {
    expect(codeInputAttrs({ kind: "code", label: "PIN", digits: 4 })).toMatchObject({
      inputmode: "numeric",
      autocomplete: "one-time-code",
      minlength: "4",
      maxlength: "4",
      placeholder: "0000",
    });
  });

  it("any other code: text up to maxLength", () => {
    const attrs = codeInputAttrs({ kind: "code", label: "Code", maxLength: 32, placeholder: "XXXX" });
    expect(attrs).toMatchObject({ type: "text", maxlength: "32", placeholder: "XXXX" });
    expect(attrs.inputmode).toBeUndefined();
  });

  it("hints lose {appName} and say where a code went, literally", () => {
    const hint = (h: string, d?: string) => hintText({ kind: "code", label: "C", hint: h }, d);
    expect(hint("Enter the current code for {appName}.")).toBe("Enter the current code.");
    expect(hint("{appName} sent it.")).toBe("this site sent it.");
    expect(hint("We sent it to {destination}.", "a$&b")).toBe("We sent it to a$&b.");
    expect(hint("We sent it to {destination}.")).toBeUndefined();
  });

  it("resend time: the server's, within ten minutes of now", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(resendAtMs({ resendAfter: "2026-01-01T00:00:30Z" }, now)).toBe(now + 30_000);
    expect(resendAtMs({ resendAfter: "2027-01-01T00:00:00Z" }, now)).toBe(now + 600_000);
    expect(resendAtMs({}, now)).toBe(now);
  });
});

describe("Remember this device", () => {
  it("reads trustedDeviceDays as a whole number of days from 1 to 400, else not offered", () => {
    expect(readTrustedDeviceDays(30)).toBe(30);
    expect(readTrustedDeviceDays(1)).toBe(1);
    expect(readTrustedDeviceDays(400)).toBe(400);
    for (const bad of [0, -1, 1.5, 401, Number.NaN, "30", null, undefined, true, {}]) {
      expect(readTrustedDeviceDays(bad), String(bad)).toBeUndefined();
    }
  });

  it("says the days, with a singular for one", () => {
    expect(rememberText(30)).toBe("Remember this device for 30 days");
    expect(rememberText(1)).toBe("Remember this device for 1 day");
  });

  it("a verify body asks for rememberDevice only when the box is ticked", () => {
    const totp = code({ id: "f1", type: "totp" });
    expect(verifyBody(totp, "123456", true)).toEqual({
      factor: "totp",
      factorId: "f1",
      code: "123456",
      rememberDevice: true,
    });
    expect(verifyBody(totp, "123456", false)).toEqual({ factor: "totp", factorId: "f1", code: "123456" });
  });
});
