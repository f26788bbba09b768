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
  label: string;
  /** Id of the error alert the input is described by (also marks the input invalid). */
  errorId?: string;
  hint?: string;
}

/** The six-digit one-time-code input, labelled, with the attributes autofill and mobile keypads need. */
export function codeInput({ id, label, errorId, hint }: CodeInputOptions): SafeHtml {
  const hintId = `${id}-hint`;
  const describedBy = [errorId, hint ? hintId : undefined].filter(Boolean).join(" ");
  return html`<div class="field">
<label for="${id}">${label}</label>
<input class="input code-input" id="${id}" name="code" type="text" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]*" maxlength="6" minlength="6" required autofocus spellcheck="false" placeholder="000000"${errorId ? raw(' aria-invalid="true"') : ""}${describedBy ? html` aria-describedby="${describedBy}"` : ""}>
${hint ? html`<p class="hint" id="${hintId}">${hint}</p>` : ""}
</div>`;
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

const FACTOR_TYPE_LABELS: Readonly<Record<string, string>> = {
  totp: "Authenticator app",
  webauthn: "Security key or passkey",
  email: "Email code",
  sms: "Text message",
  recovery: "Recovery code",
};

/** Human label of a factor type; unknown types show as themselves (escaped by the caller's `html`). */
export function factorTypeLabel(type: string): string {
  return Object.hasOwn(FACTOR_TYPE_LABELS, type) ? (FACTOR_TYPE_LABELS[type] ?? type) : type;
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
