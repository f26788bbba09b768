import { cardHead, icons, safeUrl } from "./components.js";
import { html } from "./html.js";
import { layout } from "./layout.js";
import type { MessagePageData } from "./page-types.js";

/**
 * A small dead-end page (expired challenge, not signed in): a heading, a message and an optional link.
 *
 * @example
 * renderMessagePage({ ...base, title: "This link has expired", message: "Start again.", link: { href: "/", label: "Home" } });
 */
export function renderMessagePage(data: MessagePageData): string {
  const link = data.link
    ? html`<a class="button button-primary button-block" href="${safeUrl(data.link.href)}">${data.link.label}</a>`
    : "";
  const body = html`${cardHead(icons.info, data.title, data.message)}
${link}`;
  return layout({ appName: data.appName, nonce: data.nonce, title: data.title, body });
}
