import { html, jsonScript, type SafeHtml } from "../pages/html.js";

/**
 * The browser bundle of @stepup/browser plus the page's data for it: a nonce'd external module
 * script (no inline JS, no CDN) and a JSON data block (`#stepup-data`). Pages work without it.
 *
 * @example
 * pageScript({ nonce, basePath }, { page: "console", basePath, consoleUrl });
 */
export function pageScript(
  base: { nonce: string; basePath: string },
  data: Record<string, unknown>,
): SafeHtml {
  return html`${jsonScript("stepup-data", data)}
<script type="module" src="${base.basePath}/assets/stepup.js" nonce="${base.nonce}"></script>`;
}
