/**
 * The design tokens the stepup pages (@stepup/http) and the step-up modal share: one palette in a
 * light and a dark scheme, one set of radii and type sizes. Colour pairs meet WCAG AA in both
 * schemes: body text >= 4.5:1 on its background, input borders and focus rings >= 3:1.
 * No DOM here: the server imports this module to build the pages' stylesheet.
 */

/** Colours (and the card shadow, which changes with the scheme), by CSS custom property name. */
export type Palette = {
  readonly bg: string;
  readonly card: string;
  readonly text: string;
  readonly muted: string;
  readonly border: string;
  readonly subtle: string;
  readonly field: string;
  readonly "field-border": string;
  readonly accent: string;
  readonly "accent-hover": string;
  readonly "on-accent": string;
  readonly "accent-soft": string;
  readonly danger: string;
  readonly "danger-soft": string;
  readonly "danger-border": string;
  readonly info: string;
  readonly "info-soft": string;
  readonly "info-border": string;
  readonly ok: string;
  readonly "ok-soft": string;
  readonly focus: string;
  readonly backdrop: string;
  readonly shadow: string;
};

/** The light scheme (the default). */
export const LIGHT: Palette = Object.freeze({
  bg: "#f4f5f7",
  card: "#fff",
  text: "#1b1f24",
  muted: "#59636e",
  border: "#d8dee4",
  subtle: "#f6f8fa",
  field: "#fff",
  "field-border": "#6e7781",
  accent: "#0b63ce",
  "accent-hover": "#0a55b0",
  "on-accent": "#fff",
  "accent-soft": "#e7f0fc",
  danger: "#b42318",
  "danger-soft": "#fef3f2",
  "danger-border": "#f3b8b2",
  info: "#0b4a8f",
  "info-soft": "#eef5ff",
  "info-border": "#b9d4f7",
  ok: "#116329",
  "ok-soft": "#dafbe1",
  focus: "#0b63ce",
  backdrop: "rgba(16,24,40,.55)",
  shadow: "0 1px 2px rgba(16,24,40,.05),0 12px 32px -8px rgba(16,24,40,.12)",
});

/** The dark scheme, for `prefers-color-scheme: dark`. */
export const DARK: Palette = Object.freeze({
  bg: "#0e1116",
  card: "#171b21",
  text: "#e8ecf1",
  muted: "#9aa4b0",
  border: "#2d343d",
  subtle: "#1d232b",
  field: "#0e1116",
  "field-border": "#6b7684",
  accent: "#4c9cff",
  "accent-hover": "#6aadff",
  "on-accent": "#0b1220",
  "accent-soft": "#17263a",
  danger: "#ff9b8f",
  "danger-soft": "#2a1515",
  "danger-border": "#6b2a24",
  info: "#9ccaff",
  "info-soft": "#0f2035",
  "info-border": "#24446b",
  ok: "#7ee2a0",
  "ok-soft": "#12301d",
  focus: "#6aadff",
  backdrop: "rgba(0,0,0,.65)",
  shadow: "0 1px 2px rgba(0,0,0,.4),0 12px 32px -8px rgba(0,0,0,.5)",
});

/** Radii, type and spacing that do not change with the scheme. */
export const SHAPE = Object.freeze({
  /** Cards and dialogs. */
  "radius-card": "16px",
  /** Boxes inside a card (factor rows, code panels). */
  "radius-box": "12px",
  /** Inputs and buttons. */
  "radius-control": "8px",
  "font-sans": 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif',
  "font-mono": 'ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace',
  "text-body": "16px",
  "text-small": ".875rem",
  "text-label": ".9375rem",
  "text-title": "1.5rem",
  "text-code": "1.6rem",
  "control-height": "2.75rem",
});

/**
 * CSS custom properties for a set of tokens: `--bg:#f4f5f7;--card:#fff;...`. The modal passes a
 * prefix (`su-`) so its variables cannot collide with the app page it opens over.
 *
 * @example
 * `:root{${cssVariables(LIGHT)}}` // "--bg:#f4f5f7;--card:#fff;..."
 */
export function cssVariables(tokens: Readonly<Record<string, string>>, prefix = ""): string {
  return Object.entries(tokens)
    .map(([name, value]) => `--${prefix}${name}:${value}`)
    .join(";");
}

/**
 * The light scheme on `selector`, the dark one under `prefers-color-scheme: dark`, and the shape
 * tokens: the whole token sheet for one scope (`:root` on the pages, `.stepup-modal` in an app).
 *
 * @example
 * themeCss(":root"); // ":root{color-scheme:light dark;--bg:...}@media (prefers-color-scheme:dark){:root{--bg:...}}"
 */
export function themeCss(selector: string, prefix = ""): string {
  return (
    `${selector}{color-scheme:light dark;${cssVariables(SHAPE, prefix)};${cssVariables(LIGHT, prefix)}}` +
    `@media (prefers-color-scheme:dark){${selector}{${cssVariables(DARK, prefix)}}}`
  );
}
