import { html, type SafeHtml } from "./html.js";
import type { ConsoleActivity, ConsolePageData } from "./page-types.js";

/** "2026-01-05 12:00 UTC" in a `<time>`: UTC, because the server does not know the reader's zone. */
function dateTime(timestamp: string): SafeHtml {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return html`${timestamp}`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

function activityItem(item: ConsoleActivity): SafeHtml {
  // The address is whatever the app reported (often a forwarded header): text, escaped like the rest.
  return html`<li>
<span>${item.text}</span>
<dl class="meta">
<div><dt>When</dt><dd>${dateTime(item.at)}</dd></div>
${item.ip ? html`<div><dt>From</dt><dd>${item.ip}</dd></div>` : ""}
</dl>
</li>`;
}

/**
 * Recent security activity: the newest entries of the user's audit log, already in words
 * (`activityWords`), each with its time and address when known, so someone can spot a step-up or
 * a new factor they did not make. Nothing when `activity` is absent.
 */
export function activitySection(data: ConsolePageData): SafeHtml | "" {
  const activity = data.activity;
  if (activity === undefined) return "";
  const list =
    activity.length === 0
      ? html`<p class="hint">Nothing yet.</p>`
      : html`<ol class="activity">${activity.map(activityItem)}</ol>`;
  return html`<section class="section" aria-labelledby="activity-title">
<div class="section-head"><h2 id="activity-title">Recent security activity</h2></div>
${list}
</section>`;
}
