import { csrfField, isoDate } from "./components.js";
import { returnToField } from "./console-enroll.js";
import { html, type SafeHtml } from "./html.js";
import type { ConsoleDevice, ConsolePageData } from "./page-types.js";

function revokeForm(data: ConsolePageData, action: string, label: string, name: string): SafeHtml {
  return html`<form method="post" action="${action}">
${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}
<button type="submit" class="button button-danger button-small">${label}<span class="sr-only"> ${name}</span></button>
</form>`;
}

function deviceItem(data: ConsolePageData, device: ConsoleDevice): SafeHtml {
  const action = `${data.basePath}/console/devices/${encodeURIComponent(device.id)}/revoke`;
  return html`<li class="factor">
<div class="factor-title"><h3>${device.name}</h3>${device.current ? html`<span class="pill pill-ok">This device</span>` : ""}</div>
<dl class="meta">
<div><dt>Added</dt><dd>${isoDate(device.createdAt)}</dd></div>
<div><dt>Last used</dt><dd>${isoDate(device.lastUsedAt)}</dd></div>
<div><dt>Trusted until</dt><dd>${isoDate(device.trustedUntil)}</dd></div>
</dl>
<div class="factor-actions">${revokeForm(data, action, "Revoke", device.name)}</div>
</li>`;
}

/**
 * Trusted devices ("Remember this device"): each with its dates, "This device" for the browser
 * showing the page, Revoke, and "Forget all". Plain POST forms with the csrf field; revoking needs
 * no step-up (it only takes trust away). Nothing when trusted devices are off (`devices` absent).
 */
export function devicesSection(data: ConsolePageData): SafeHtml | "" {
  const devices = data.devices;
  if (devices === undefined) return "";
  const forgetAll =
    devices.length > 1
      ? revokeForm(data, `${data.basePath}/console/devices/revoke-all`, "Forget all", "trusted devices")
      : "";
  const list =
    devices.length === 0
      ? html`<p class="hint">No trusted devices. Tick "Remember this device" when you verify to skip some checks on that browser.</p>`
      : html`<ul class="factor-list">${devices.map((d) => deviceItem(data, d))}</ul>`;
  return html`<section class="section" aria-labelledby="devices-title">
<div class="section-head"><h2 id="devices-title">Trusted devices</h2>${forgetAll}</div>
${list}
</section>`;
}
