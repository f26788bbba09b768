// Misconfiguration must fail at start-up, naming the option, never at the first request.
import { describe, expect, it } from "vitest";
import type { StepUpOptions } from "./config.js";
import { totp } from "./factors/totp.js";
import { createStepUp } from "./step-up.js";
import { memoryStore } from "./store/memory-store.js";

const good: StepUpOptions = {
  store: memoryStore(),
  secret: "x".repeat(32),
  appName: "Acme",
  factors: [totp()],
};

describe("createStepUp options", () => {
  it.each([
    ["store", { store: undefined }],
    ["secret", { secret: "short" }],
    ["secret", { secret: [] }],
    ["appName", { appName: "" }],
    ["factors", { factors: [] }],
    ["factors", { factors: [totp(), totp()] }],
    ['rules["a:b"].maxAge', { rules: { "a:b": { maxAge: -1 } } }],
    ['rules["a:b"].factors', { rules: { "a:b": { factors: ["sms"] } } }],
    ['rules["a:b"].match', { rules: { "a:b": { match: "sometimes" as never } } }],
    ['rules["a:b"].label', { rules: { "a:b": { label: "" } } }],
    ['rules["a:b"].label', { rules: { "a:b": { label: "   " } } }],
    ['rules["a:b"].label', { rules: { "a:b": { label: "x".repeat(101) } } }],
    ['rules["a:b"].label', { rules: { "a:b": { label: "open\nthe panel" } } }],
    ['rules["a:b"].label', { rules: { "a:b": { label: 42 as never } } }],
    ["defaults.label", { defaults: { label: "do anything" } }],
    ["limits.perChallenge", { limits: { perChallenge: 0 } }],
    ["challengeTtl", { challengeTtl: 1.5 }],
    ["policy", { policy: "allow" as never }],
    ["notify", { notify: true as never }],
  ])("a bad `%s` throws a TypeError naming it", (name, patch) => {
    expect(() => createStepUp({ ...good, ...(patch as Partial<StepUpOptions>) })).toThrow(
      expect.objectContaining({ name: "TypeError", message: expect.stringContaining(`\`${name}`) }),
    );
  });

  it("a count is not described as seconds", () => {
    expect(() => createStepUp({ ...good, limits: { perChallenge: 0 } })).toThrow(
      "stepup: option `limits.perChallenge` must be a whole number from 1 to 1000",
    );
  });

  it("totp window is validated", () => {
    expect(() => totp({ window: { past: -1 } })).toThrow(/window\.past/);
  });

  it("a rule's label of 1-100 characters (any script) is kept on the resolved rule", () => {
    const label = "öffne das Admin-Panel 🔐".padEnd(100, ".");
    const engine = createStepUp({ ...good, rules: { "admin:read": { label }, "a:b": {} } });
    expect(engine.config.rules.get("admin:read")?.label).toBe(label);
    expect(engine.config.rules.get("a:b")).not.toHaveProperty("label");
  });

  it("a valid configuration is frozen", () => {
    const engine = createStepUp(good);
    expect(Object.isFrozen(engine.config)).toBe(true);
  });
});
