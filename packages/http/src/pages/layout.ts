import { html, raw, type SafeHtml } from "./html.js";
import { PAGE_CSS } from "./styles.js";

/** Options of `layout`. Every string is untrusted and escaped. */
export interface LayoutOptions {
  appName: string;
  /** CSP nonce for the page's one <style> element. */
  nonce: string;
  /** Page title; the document title is `${title} · ${appName}`. */
  title: string;
  /** The contents of <main>, already rendered with `html`. */
  body: SafeHtml;
  /** Card width: "narrow" for single-task pages, "wide" for the console. @default "narrow" */
  width?: "narrow" | "wide";
}

/**
 * A complete HTML document: one centered card in <main>, styled by one nonce'd <style> element.
 * No external resources are loaded, and the referrer policy is same-origin: challenge URLs never leak to other sites, while form POSTs keep a real `Origin` (under no-referrer, browsers send `Origin: null` and the origin check would refuse them).
 *
 * @example
 * layout({ appName: "Acme", nonce, title: "Confirm it's you", body: html`<h1>...</h1>` });
 */
export function layout({ appName, nonce, title, body, width = "narrow" }: LayoutOptions): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${title} · ${appName}</title>
<style nonce="${nonce}">${raw(PAGE_CSS)}</style>
</head>
<body>
<div class="${width === "wide" ? "shell wide" : "shell"}">
<p class="brand">${appName}</p>
<main class="card">
${body}
</main>
</div>
</body>
</html>
`;
  return page.value;
}
