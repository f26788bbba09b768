/**
 * Escape-by-default HTML templating (in the spirit of hono's `html` helper): every interpolated
 * value is escaped unless it is already a `SafeHtml`, so untrusted data cannot become markup.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/**
 * HTML that is safe to insert as-is: produced by `html`, `raw` or `jsonScript`, never built from a
 * plain string by callers. The private brand keeps a look-alike `{ value }` object from type-checking.
 *
 * @example
 * const page: SafeHtml = html`<p>${userInput}</p>`;
 */
export class SafeHtml {
  declare private readonly brand: never;
  readonly value: string;

  constructor(value: string) {
    this.value = value;
    Object.freeze(this);
  }

  toString(): string {
    return this.value;
  }
}

/** What `html` accepts in a `${}` slot; `false`, `null` and `undefined` render nothing. */
export type HtmlValue = SafeHtml | string | number | bigint | false | null | undefined | readonly HtmlValue[];

/**
 * Escape text for an HTML text node or a double-quoted attribute value.
 * The backtick is escaped too, because old IE treated it as an attribute quote.
 *
 * @example
 * escapeHtml(`<a href="x">`); // "&lt;a href=&quot;x&quot;&gt;"
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function renderValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map((item: HtmlValue) => renderValue(item)).join("");
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every interpolated value unless it is `SafeHtml`.
 * Attribute values must be double-quoted in the template: escaping cannot protect unquoted ones.
 *
 * @example
 * html`<a href="${url}">${label}</a>`; // url and label are escaped
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) {
    out += renderValue(values[i]) + (strings[i + 1] ?? "");
  }
  return new SafeHtml(out);
}

/**
 * Mark a string as trusted HTML. For internal constants only (CSS, SVG icons); never for data.
 *
 * @example
 * const icon = raw('<svg aria-hidden="true">...</svg>');
 */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * Server data for page scripts, as a JSON data block: never spliced into JS source.
 * `<`, `>` and `&` become `\u003c`-style escapes, so `</script>` and `<!--` cannot end or confuse the
 * element; U+2028/2029 are escaped for consumers that still `eval` JSON as JS.
 *
 * @throws TypeError when `data` cannot be serialized (a cycle or a BigInt).
 * @example
 * jsonScript("stepup-data", { challengeId }); // read with JSON.parse(el.textContent)
 */
export function jsonScript(id: string, data: unknown): SafeHtml {
  const json = (JSON.stringify(data) ?? "null").replace(/[<>&\u2028\u2029]/g, (c) => JSON_ESCAPES[c] ?? c);
  return html`<script type="application/json" id="${id}">${raw(json)}</script>`;
}
