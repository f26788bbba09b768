// The tokens promise WCAG AA in both schemes (1.4.3 text >= 4.5:1, 1.4.11 input borders and focus
// rings >= 3:1). A new colour that breaks a pair fails here, before any page is rendered.
import { describe, expect, it } from "vitest";
import { cssVariables, DARK, LIGHT, type Palette, themeCss } from "./tokens.js";

function luminance(hex: string): number {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join("")}` : hex;
  const [r = 0, g = 0, b = 0] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const TEXT: [keyof Palette, keyof Palette][] = [
  ["text", "bg"],
  ["text", "card"],
  ["muted", "card"],
  ["muted", "bg"],
  ["muted", "subtle"],
  ["accent", "card"],
  ["accent", "accent-soft"],
  ["on-accent", "accent"],
  ["on-accent", "accent-hover"],
  ["danger", "card"],
  ["danger", "danger-soft"],
  ["info", "info-soft"],
  ["ok", "ok-soft"],
];
const NON_TEXT: [keyof Palette, keyof Palette][] = [
  ["field-border", "field"],
  ["field-border", "card"],
  ["focus", "card"],
  ["focus", "bg"],
];

describe.each([
  ["light", LIGHT],
  ["dark", DARK],
])("%s palette", (_scheme, palette) => {
  it.each(TEXT)("%s on %s is at least 4.5:1", (fg, bg) => {
    expect(contrast(palette[fg], palette[bg])).toBeGreaterThanOrEqual(4.5);
  });
  it.each(NON_TEXT)("%s against %s is at least 3:1", (fg, bg) => {
    expect(contrast(palette[fg], palette[bg])).toBeGreaterThanOrEqual(3);
  });
});

describe("token sheets", () => {
  it("both schemes name the same variables", () => {
    expect(Object.keys(DARK)).toEqual(Object.keys(LIGHT));
  });

  it("a prefix keeps the modal's variables apart from the app page's", () => {
    expect(cssVariables({ bg: "#fff" }, "su-")).toBe("--su-bg:#fff");
    const sheet = themeCss(".stepup-modal", "su-");
    expect(sheet).toContain(".stepup-modal{color-scheme:light dark;");
    expect(sheet).toContain(`@media (prefers-color-scheme:dark){.stepup-modal{--su-bg:${DARK.bg};`);
    expect(sheet).not.toMatch(/(^|[;{])--bg:/);
  });
});
