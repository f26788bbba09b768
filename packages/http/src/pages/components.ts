import type { CodePrompt } from "@stepup/core";
import { type HtmlValue, html, raw, type SafeHtml } from "./html.js";

const SVG_OPEN =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" ' +
  'stroke-linejoin="round" aria-hidden="true" focusable="false">';

/** Decorative inline icons (aria-hidden; the text next to them carries the meaning). */
export const icons = {
  lock: raw(
    `${SVG_OPEN}<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/></svg>`,
  ),
  shield: raw(
    `${SVG_OPEN}<path d="M12 3 4.5 6v5.5c0 4.4 3.2 8.3 7.5 9.5 4.3-1.2 7.5-5.1 7.5-9.5V6z"/></svg>`,
  ),
  check: raw(`${SVG_OPEN}<path d="M20 6 9 17l-5-5"/></svg>`),
  alert: raw(
    `${SVG_OPEN}<circle cx="12" cy="12" r="9"/><path d="M12 7.5v5.5"/><path d="M12 16.5h.01"/></svg>`,
  ),
  info: raw(`${SVG_OPEN}<circle cx="12" cy="12" r="9"/><path d="M12 11v5.5"/><path d="M12 7.5h.01"/></svg>`),
};

/** Centered page heading: icon badge, the page's one <h1>, and a lead paragraph. */
export function cardHead(
  icon: SafeHtml,
  title: string,
  lead: HtmlValue,
  tone: "accent" | "ok" = "accent",
): SafeHtml {
  return html`<div class="card-head">
<div class="icon-badge ${tone}">${icon}</div>
<h1>${title}</h1>
${lead === undefined ? "" : html`<p class="lead">${lead}</p>`}
</div>`;
}

/** An error box, announced by screen readers as soon as it appears. */
export function errorAlert(message: HtmlValue, id?: string): SafeHtml {
  return html`<div class="alert alert-error" role="alert"${id ? html` id="${id}"` : ""}>${icons.alert}<p>${message}</p></div>`;
}

/** A polite status box for flash notices. */
export function infoNotice(message: HtmlValue): SafeHtml {
  return html`<div class="alert alert-info" role="status">${icons.info}<p>${message}</p></div>`;
}

/** A hidden form field. */
export function hiddenField(name: string, value: string): SafeHtml {
  return html`<input type="hidden" name="${name}" value="${value}">`;
}

/** The hidden CSRF field every stepup form carries. */
export function csrfField(token: string): SafeHtml {
  return hiddenField("csrf", token);
}

/** Options of `codeInput`. */
export interface CodeInputOptions {
  id: string;
  /** How the factor asks for its code: the label, hint, length and keypad come from it. */
  prompt: CodePrompt;
  /** The label, when it differs from the prompt's (the console's confirm step). */
  label?: string;
  /** The hint, already filled in (`fillHint`); `null` for none. @default the prompt's hint, unfilled */
  hint?: string | null;
  /** Id of the error alert the input is described by (also marks the input invalid). */
  errorId?: string;
  /** Focus it on load: only the page's main field. */
  autofocus?: boolean;
}

/**
 * The code input of a factor's prompt, labelled. A numeric code gets the keypad, a digits pattern
 * and one-time-code autofill; a code of letters (a recovery code) gets neither autofill nor
 * spellcheck, except a sent one (its message is what autofill reads).
 */
export function codeInput({ id, prompt, label, hint, errorId, autofocus }: CodeInputOptions): SafeHtml {
  const hintId = `${id}-hint`;
  const hintText = hint === undefined ? prompt.hint : hint;
  const describedBy = [errorId, hintText ? hintId : undefined].filter(Boolean).join(" ");
  const digits = prompt.digits;
  const oneTime = digits !== undefined || prompt.send === true;
  const shape =
    digits !== undefined
      ? html` inputmode="numeric" pattern="[0-9]*" maxlength="${digits}" minlength="${digits}"`
      : prompt.maxLength === undefined
        ? ""
        : html` maxlength="${prompt.maxLength}"`;
  return html`<div class="field">
<label for="${id}">${label ?? prompt.label}</label>
<input class="input${digits === undefined ? "" : " code-input"}" id="${id}" name="code" type="text" autocomplete="${oneTime ? "one-time-code" : "off"}"${shape} required${autofocus ? raw(" autofocus") : ""} spellcheck="false"${prompt.placeholder ? html` placeholder="${prompt.placeholder}"` : ""}${errorId ? raw(' aria-invalid="true"') : ""}${describedBy ? html` aria-describedby="${describedBy}"` : ""}>
${hintText ? html`<p class="hint" id="${hintId}">${hintText}</p>` : ""}
</div>`;
}

/**
 * A prompt's hint with `{appName}` and `{destination}` filled in: plain text, escaped where it is
 * shown (a destination comes from user data). A missing destination reads as `fallback`.
 */
export function fillHint(
  hint: string | undefined,
  appName: string,
  destination: string | undefined,
  fallback: string,
): string | undefined {
  return hint?.replaceAll("{appName}", appName).replaceAll("{destination}", destination ?? fallback);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * `url` if it is safe to put in an href or form action, else `fallback`.
 * Allows relative URLs and http(s); blocks `javascript:`/`data:` (even disguised with whitespace or
 * control characters, which browsers strip from schemes) and protocol-relative `//host` URLs.
 *
 * @example
 * safeUrl("javascript:alert(1)"); // "#"
 */
export function safeUrl(url: string, fallback = "#"): string {
  const probe = url.replace(/[\p{Cc}\s]/gu, "");
  const scheme = SCHEME.exec(probe)?.[1]?.toLowerCase();
  if (scheme !== undefined) return scheme === "http" || scheme === "https" ? url : fallback;
  if (probe.startsWith("//") || probe.startsWith("/\\") || probe.startsWith("\\")) return fallback;
  return url;
}

/**
 * `path` if it is an absolute path on this origin, else `fallback`: for links that must never
 * leave the site (Cancel), where `safeUrl` would still allow an http(s) URL elsewhere.
 *
 * @example
 * samePath("https://evil.example/"); // "/"
 */
export function samePath(path: string, fallback = "/"): string {
  const probe = path.replace(/[\p{Cc}\s]/gu, "");
  if (!probe.startsWith("/") || probe.startsWith("//") || probe.startsWith("/\\")) return fallback;
  return path;
}

/** A `<time>` showing the ISO date (YYYY-MM-DD) of a timestamp; unparsable input is shown as given. */
export function isoDate(timestamp: string): SafeHtml {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return html`${timestamp}`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 10)}</time>`;
}

/** "1 attempt" / "3 attempts". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
