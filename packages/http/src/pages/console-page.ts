import { pageScript } from "../assets/page-script.js";
import {
  cardHead,
  csrfField,
  errorAlert,
  icons,
  infoNotice,
  isoDate,
  plural,
  safeUrl,
} from "./components.js";
import { activitySection } from "./console-activity.js";
import { devicesSection } from "./console-devices.js";
import {
  addMethods,
  CONSOLE_ERROR_ID,
  hasCeremony,
  NAME_MAX_LENGTH,
  pendingSection,
  returnToField,
} from "./console-enroll.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import type { ConsolePageData } from "./page-types.js";

type ConsoleFactor = ConsolePageData["factors"][number];

const TITLE = "Two-step verification";

function factorUrl(data: ConsolePageData, factor: ConsoleFactor, verb: string): string {
  return `${data.basePath}/console/factors/${encodeURIComponent(factor.id)}/${verb}`;
}

function renameForm(data: ConsolePageData, factor: ConsoleFactor, index: number): SafeHtml {
  const inputId = `rename-${index}`;
  return html`<details>
<summary class="button button-secondary button-small">Rename<span class="sr-only"> ${factor.name}</span></summary>
<form class="rename" method="post" action="${factorUrl(data, factor, "rename")}">
${csrfField(data.csrfToken)}
<label class="sr-only" for="${inputId}">New name for ${factor.name}</label>
<input class="input" id="${inputId}" name="name" type="text" value="${factor.name}" required maxlength="${NAME_MAX_LENGTH}" autocomplete="off">
<button type="submit" class="button button-primary button-small">Save</button>
</form>
</details>`;
}

function postButton(
  data: ConsolePageData,
  action: string,
  label: string,
  cls: string,
  name: string,
): SafeHtml {
  return html`<form method="post" action="${action}">
${csrfField(data.csrfToken)}
<button type="submit" class="button ${cls} button-small">${label}<span class="sr-only"> ${name}</span></button>
</form>`;
}

function factorItem(data: ConsolePageData, factor: ConsoleFactor, index: number): SafeHtml {
  const makePrimary = factor.primary
    ? ""
    : postButton(data, factorUrl(data, factor, "primary"), "Make primary", "button-secondary", factor.name);
  return html`<li class="factor">
<div class="factor-title"><h3>${factor.name}</h3>${factor.primary ? html`<span class="pill">Primary</span>` : ""}</div>
<dl class="meta">
<div><dt>Type</dt><dd>${factor.title}</dd></div>
<div><dt>Added</dt><dd>${isoDate(factor.createdAt)}</dd></div>
<div><dt>Last used</dt><dd>${factor.lastUsedAt === null ? "Never" : isoDate(factor.lastUsedAt)}</dd></div>
</dl>
${factor.restricted ? html`<p class="hint restricted">${factor.restricted}</p>` : ""}
<div class="factor-actions">
${renameForm(data, factor, index)}
${makePrimary}
${postButton(data, factorUrl(data, factor, "remove"), "Remove", "button-danger", factor.name)}
</div>
</li>`;
}

function consoleUrl(data: ConsolePageData): string {
  const query = data.returnTo === undefined ? "" : `?returnTo=${encodeURIComponent(data.returnTo)}`;
  return `${data.basePath}/console${query}`;
}

function factorsSection(data: ConsolePageData): SafeHtml {
  const list =
    data.factors.length === 0
      ? html`<div class="empty"><p>No methods yet. Add one to protect sensitive actions.</p>
${data.pending ? "" : addMethods(data, true)}</div>`
      : html`<ul class="factor-list">${data.factors.map((f, i) => factorItem(data, f, i))}</ul>`;
  return html`<section class="section" aria-labelledby="factors-title">
<div class="section-head"><h2 id="factors-title">Your methods</h2>${data.factors.length > 0 ? addMethods(data, false) : ""}</div>
${list}
</section>`;
}

/** "acme-recovery-codes.txt": the app's name as a safe file name. */
function codesFileName(appName: string): string {
  const slug = appName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `${slug || "stepup"}-recovery-codes.txt`;
}

/**
 * New recovery codes, the one time they are shown (the console reads them once after a
 * redirect): the list, Copy and Download for the page script, and a GET link to confirm.
 */
function freshCodes(data: ConsolePageData, codes: readonly string[]): SafeHtml {
  return html`<section class="recovery-codes" id="stepup-codes" aria-labelledby="codes-title">
<h2 id="codes-title">Save your recovery codes</h2>
<p>If you lose your authenticator, each code gets you in once. <strong>They are shown only this once:</strong> copy or download them now and keep them somewhere safe.</p>
<ol class="codes" id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<div class="code-actions" id="stepup-code-actions" hidden>
<button type="button" class="button button-secondary button-small" data-stepup-copy>Copy</button>
<button type="button" class="button button-secondary button-small" data-stepup-download>Download .txt</button>
<p class="hint passkey-status" data-stepup-status role="status"></p>
</div>
<a class="button button-primary" href="${consoleUrl(data)}">I have saved these codes</a>
</section>`;
}

function recoverySection(data: ConsolePageData): SafeHtml {
  if (data.recoveryCodesRemaining === null || data.recoveryCodesRemaining === undefined) return html``;
  const hasFactors = data.factors.length > 0;
  const regenerate = hasFactors
    ? html`<form method="post" action="${data.basePath}/console/recovery-codes">${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}
<button type="submit" class="button button-secondary button-small">Generate new codes</button></form>`
    : "";
  return html`<section class="section" aria-labelledby="recovery-title">
<div class="section-head"><h2 id="recovery-title">Recovery codes</h2>${regenerate}</div>
<p>${hasFactors ? `${plural(data.recoveryCodesRemaining, "unused code", "unused codes")}.` : "Recovery codes come with your first method."} Use one if you lose your authenticator; generating new codes cancels the old ones.</p>
</section>`;
}

function signedInAs(user: ConsolePageData["user"]): SafeHtml {
  return html`Confirm sensitive actions with a second factor. Signed in as <strong>${user.email ?? user.name ?? user.id}</strong>.`;
}

/**
 * The factor console: lists enrolled factors (rename, make primary, remove), adds any factor type
 * from its plugin's declaration (`methods`) and confirms it (`pending`), and lists trusted devices
 * (revoke one, forget all) and recent security activity. Every form is a plain POST
 * to `${basePath}/console/...` carrying the csrf field.
 *
 * @example
 * pageResponse(renderConsolePage({ ...base, user, csrfToken, factors, methods, pending }), 200, headers, base.nonce);
 */
export function renderConsolePage(data: ConsolePageData): string {
  const back =
    data.returnTo === undefined
      ? ""
      : html`<div class="actions"><a class="button button-secondary" href="${safeUrl(data.returnTo)}">Back to where you were</a></div>`;
  const codes = data.newRecoveryCodes;
  const script = pageScript(data, {
    page: "console",
    basePath: data.basePath,
    consoleUrl: consoleUrl(data),
    // Data for Copy and Download, never spliced into script source.
    ...(codes
      ? {
          recoveryCodes: codes,
          codesFile: {
            name: codesFileName(data.appName),
            title: `${data.appName} recovery codes for ${data.user.email ?? data.user.name ?? data.user.id}`,
          },
        }
      : {}),
  });
  const body = html`${cardHead(icons.shield, TITLE, signedInAs(data.user))}
${data.error ? errorAlert(data.error, CONSOLE_ERROR_ID) : ""}
${data.notice ? infoNotice(data.notice) : ""}
${codes ? freshCodes(data, codes) : ""}
${data.pending ? pendingSection(data, data.pending) : ""}
${factorsSection(data)}
${recoverySection(data)}
${devicesSection(data)}
${activitySection(data)}
${back}
${hasCeremony(data) || codes ? script : ""}`;
  return layout({ appName: data.appName, nonce: data.nonce, title: TITLE, body, width: "wide" });
}
