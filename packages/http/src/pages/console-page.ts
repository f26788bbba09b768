import { pageScript } from "../assets/page-script.js";
import {
  cardHead,
  codeInput,
  csrfField,
  errorAlert,
  factorTypeLabel,
  hiddenField,
  icons,
  infoNotice,
  isoDate,
  plural,
  safeUrl,
} from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import type { ConsolePageData } from "./page-types.js";

type ConsoleFactor = ConsolePageData["factors"][number];
type PendingTotp = NonNullable<ConsolePageData["pendingTotp"]>;

const TITLE = "Two-step verification";
const ERROR_ID = "console-error";
const NAME_MAX_LENGTH = 64;
// Only our own PNG data URLs: anything else (javascript:, remote URLs, SVG with script) is dropped.
const QR_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;

function factorUrl(data: ConsolePageData, factor: ConsoleFactor, verb: string): string {
  return `${data.basePath}/console/factors/${encodeURIComponent(factor.id)}/${verb}`;
}

/** Groups a base32 secret in fours for reading aloud and typing ("JBSW Y3DP EHPK 3PXP"). */
function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
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
<div><dt>Type</dt><dd>${factorTypeLabel(factor.type)}</dd></div>
<div><dt>Added</dt><dd>${isoDate(factor.createdAt)}</dd></div>
<div><dt>Last used</dt><dd>${factor.lastUsedAt === null ? "Never" : isoDate(factor.lastUsedAt)}</dd></div>
</dl>
<div class="factor-actions">
${renameForm(data, factor, index)}
${makePrimary}
${postButton(data, factorUrl(data, factor, "remove"), "Remove", "button-danger", factor.name)}
</div>
</li>`;
}

function returnToField(returnTo: string | undefined): SafeHtml | "" {
  return returnTo === undefined ? "" : hiddenField("returnTo", returnTo);
}

function addForm(data: ConsolePageData, prominent: boolean): SafeHtml {
  const cls = prominent ? "button-primary" : "button-secondary button-small";
  return html`<form method="post" action="${data.basePath}/console/totp">
${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}
<button type="submit" class="button ${cls}">Add authenticator app</button>
</form>`;
}

/** "Add a passkey": JavaScript-only (WebAuthn), so hidden until the page script reveals it. */
function addPasskey(data: ConsolePageData, prominent: boolean): SafeHtml | "" {
  if (!data.passkeys) return "";
  const cls = prominent ? "button-primary" : "button-secondary button-small";
  return html`<div id="stepup-add-passkey" class="add-passkey" hidden>
<button type="button" class="button ${cls}">Add a passkey or security key</button>
<p class="hint passkey-status" data-stepup-status role="status"></p>
</div>`;
}

function consoleUrl(data: ConsolePageData): string {
  const query = data.returnTo === undefined ? "" : `?returnTo=${encodeURIComponent(data.returnTo)}`;
  return `${data.basePath}/console${query}`;
}

function qrImage(qrCode: string): SafeHtml | "" {
  if (!QR_DATA_URL.test(qrCode)) return "";
  return html`<img class="qr" src="${qrCode}" width="184" height="184" alt="QR code for your authenticator app">`;
}

function setupKey(pending: PendingTotp): SafeHtml {
  const openInApp = pending.otpauthUri.startsWith("otpauth://")
    ? html`<p class="hint">On this device? <a href="${pending.otpauthUri}">Open in your authenticator app</a></p>`
    : "";
  return html`<ol class="steps">
<li>Scan the QR code with an authenticator app (1Password, Google Authenticator, Authy, …).</li>
<li>Can't scan it? Enter this setup key instead:<br>
<code class="secret" id="totp-secret" data-secret="${pending.secret}">${groupSecret(pending.secret)}</code></li>
<li>Enter the 6-digit code the app shows.</li>
</ol>
${openInApp}`;
}

function enrollSection(data: ConsolePageData, pending: PendingTotp): SafeHtml {
  const action = `${data.basePath}/console/totp/${encodeURIComponent(pending.factorId)}/confirm`;
  return html`<section class="enroll" aria-labelledby="enroll-title">
<h2 id="enroll-title">Set up your authenticator app</h2>
<div class="enroll-grid">${qrImage(pending.qrCode)}<div>${setupKey(pending)}</div></div>
<form method="post" action="${action}">
${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}
${codeInput({ id: "totp-code", label: "Code from the app", errorId: data.error ? ERROR_ID : undefined })}
<div class="field">
<label for="totp-name">Name <span class="optional">(optional)</span></label>
<input class="input" id="totp-name" name="name" type="text" placeholder="Authenticator app" maxlength="${NAME_MAX_LENGTH}" autocomplete="off">
</div>
<button type="submit" class="button button-primary">Confirm</button>
</form>
</section>`;
}

function factorsSection(data: ConsolePageData): SafeHtml {
  const list =
    data.factors.length === 0
      ? html`<div class="empty"><p>No methods yet. Add an authenticator app to protect sensitive actions.</p>
${data.pendingTotp ? "" : html`<div class="add-methods">${addForm(data, true)}${addPasskey(data, false)}</div>`}</div>`
      : html`<ul class="factor-list">${data.factors.map((f, i) => factorItem(data, f, i))}</ul>`;
  return html`<section class="section" aria-labelledby="factors-title">
<div class="section-head"><h2 id="factors-title">Your methods</h2>${data.factors.length > 0 ? html`<div class="add-methods">${addForm(data, false)}${addPasskey(data, false)}</div>` : ""}</div>
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
 * The factor console: lists enrolled factors (rename, make primary, remove), starts and confirms
 * TOTP enrollment. Every form is a plain POST to `${basePath}/console/...` carrying the csrf field.
 *
 * @example
 * pageResponse(renderConsolePage({ ...base, user, csrfToken, factors, pendingTotp }), 200, headers, base.nonce);
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
${data.error ? errorAlert(data.error, ERROR_ID) : ""}
${data.notice ? infoNotice(data.notice) : ""}
${codes ? freshCodes(data, codes) : ""}
${data.pendingTotp ? enrollSection(data, data.pendingTotp) : ""}
${factorsSection(data)}
${recoverySection(data)}
${back}
${data.passkeys || codes ? script : ""}`;
  return layout({ appName: data.appName, nonce: data.nonce, title: TITLE, body, width: "wide" });
}
