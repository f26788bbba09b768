/**
 * The console's "Add ..." controls and the setup step of an enrollment in progress, built from each
 * plugin's declaration (`ui.enroll`, `ui.prompt`): nothing here knows a factor type.
 */
import type { CodePrompt, EnrollField } from "@stepup/core";
import { codeInput, csrfField, hiddenField } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import type { ConsoleMethod, ConsolePageData, PendingEnrollment } from "./page-types.js";

/** The console's error alert: the confirm field is described by it after a wrong code. */
export const CONSOLE_ERROR_ID = "console-error";
export const NAME_MAX_LENGTH = 64;
// Only our own PNG data URLs: anything else (javascript:, remote URLs, SVG with script) is dropped.
const QR_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;
/** A confirm field for a plugin whose prompt is not a code (it should not happen: the safe shape). */
const BARE_PROMPT: CodePrompt = { kind: "code", label: "Code" };

/** The hidden returnTo field, when the console was opened from somewhere to go back to. */
export function returnToField(returnTo: string | undefined): SafeHtml | "" {
  return returnTo === undefined ? "" : hiddenField("returnTo", returnTo);
}

function addUrl(data: ConsolePageData, type: string): string {
  return `${data.basePath}/console/add/${encodeURIComponent(type)}`;
}

/** A field's starting value: the signed-in user's address or number, when the field asks for it. */
function prefill(data: ConsolePageData, field: EnrollField): string | undefined {
  if (field.fromUser === "email") return data.user.email;
  if (field.fromUser === "phone") return data.user.phone;
  return undefined;
}

function enrollField(data: ConsolePageData, method: ConsoleMethod, field: EnrollField): SafeHtml {
  const id = `add-${method.type}-${field.name}`.replace(/[^A-Za-z0-9_-]/g, "-");
  const hintId = `${id}-hint`;
  const value = prefill(data, field);
  return html`<div class="field">
<label for="${id}">${field.label}${field.required ? "" : html` <span class="optional">(optional)</span>`}</label>
<input class="input" id="${id}" name="${field.name}" type="${field.type}"${field.autocomplete ? html` autocomplete="${field.autocomplete}"` : ""}${field.required ? html` required` : ""}${field.placeholder ? html` placeholder="${field.placeholder}"` : ""}${value ? html` value="${value}"` : ""}${field.hint ? html` aria-describedby="${hintId}"` : ""}>
${field.hint ? html`<p class="hint" id="${hintId}">${field.hint}</p>` : ""}
</div>`;
}

/**
 * One type's add control: a plain POST (no fields), a folded form asking its fields first (it
 * opens without JavaScript), or for a WebAuthn ceremony a button the page script reveals.
 */
function addMethod(data: ConsolePageData, method: ConsoleMethod, cls: string): SafeHtml {
  const { enroll } = method;
  if (enroll.ceremony === "webauthn") {
    return html`<div id="stepup-add-passkey" class="add-passkey" hidden>
<button type="button" class="button ${cls}">${enroll.button}</button>
<p class="hint passkey-status" data-stepup-status role="status"></p>
</div>`;
  }
  const head = html`${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}`;
  const fields = enroll.fields ?? [];
  if (fields.length === 0) {
    return html`<form method="post" action="${addUrl(data, method.type)}">
${head}
<button type="submit" class="button ${cls}">${enroll.button}</button>
</form>`;
  }
  return html`<details class="add-method">
<summary class="button ${cls}">${enroll.button}</summary>
<form method="post" action="${addUrl(data, method.type)}">
${head}
${fields.map((f) => enrollField(data, method, f))}
<button type="submit" class="button button-primary button-small">${method.prompt?.send ? "Send code" : "Continue"}</button>
</form>
</details>`;
}

/** Every add control, in configuration order; only the first WebAuthn ceremony (one script hook). */
export function addMethods(data: ConsolePageData, prominent: boolean): SafeHtml {
  let ceremony = false;
  const methods = (data.methods ?? []).filter((m) => {
    if (m.enroll.ceremony !== "webauthn") return true;
    if (ceremony) return false;
    ceremony = true;
    return true;
  });
  const [first, ...rest] = methods;
  const secondary = "button-secondary button-small";
  return html`<div class="add-methods">${first ? addMethod(data, first, prominent ? "button-primary" : secondary) : ""}${rest.map((m) => addMethod(data, m, secondary))}</div>`;
}

/** Whether the console has a control for the page script (a WebAuthn ceremony). */
export function hasCeremony(data: ConsolePageData): boolean {
  return (data.methods ?? []).some((m) => m.enroll.ceremony === "webauthn");
}

/** Groups a base32 secret in fours for reading aloud and typing ("JBSW Y3DP EHPK 3PXP"). */
function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

function qrImage(qrCode: string | undefined): SafeHtml | "" {
  if (qrCode === undefined || !QR_DATA_URL.test(qrCode)) return "";
  return html`<img class="qr" src="${qrCode}" width="184" height="184" alt="QR code for your authenticator app">`;
}

/** An authenticator app's setup (an `otpauth://` secret): the QR code, the key, a link to open it. */
function setupKey(pending: PendingEnrollment, secret: string, prompt: CodePrompt): SafeHtml {
  const uri = pending.otpauthUri ?? "";
  const openInApp = uri.startsWith("otpauth://")
    ? html`<p class="hint">On this device? <a href="${uri}">Open in your authenticator app</a></p>`
    : "";
  const code = prompt.digits === undefined ? "the code" : `the ${prompt.digits}-digit code`;
  return html`<div class="enroll-grid">${qrImage(pending.qrCode)}<div><ol class="steps">
<li>Scan the QR code with an authenticator app (1Password, Google Authenticator, Authy, …).</li>
<li>Can't scan it? Enter this setup key instead:<br>
<code class="secret" id="enroll-secret" data-secret="${secret}">${groupSecret(secret)}</code></li>
<li>Enter ${code} the app shows.</li>
</ol>
${openInApp}</div></div>`;
}

/** "We sent a code to ...", with when it stops working (UTC: the server does not know the zone). */
function sentTo(destination: string, expiresAt: string | undefined): SafeHtml {
  const date = expiresAt === undefined ? undefined : new Date(expiresAt);
  const until =
    date === undefined || Number.isNaN(date.getTime())
      ? ""
      : html` It works until <time datetime="${date.toISOString()}">${date.toISOString().slice(11, 16)} UTC</time>.`;
  return html`<p role="status">We sent a code to <strong>${destination}</strong>.${until}</p>`;
}

/**
 * The setup step of an enrollment in progress, titled `enroll.title`: what the start answered (a
 * QR code and setup key, or where a code went), then the confirm form with an optional name.
 */
export function pendingSection(data: ConsolePageData, pending: PendingEnrollment): SafeHtml {
  const method = data.methods?.find((m) => m.type === pending.type);
  const prompt = method?.prompt ?? BARE_PROMPT;
  const action = `${data.basePath}/console/add/${encodeURIComponent(pending.type)}/${encodeURIComponent(pending.factorId)}/confirm`;
  return html`<section class="enroll" aria-labelledby="enroll-title">
<h2 id="enroll-title">${method?.enroll.title ?? "Finish setting up"}</h2>
${pending.secret === undefined ? "" : setupKey(pending, pending.secret, prompt)}
${pending.destination === undefined ? "" : sentTo(pending.destination, pending.expiresAt)}
<form method="post" action="${action}">
${csrfField(data.csrfToken)}
${returnToField(data.returnTo)}
${codeInput({
  id: "enroll-code",
  prompt,
  label: method?.enroll.confirmLabel ?? prompt.label,
  hint: null,
  errorId: data.error ? CONSOLE_ERROR_ID : undefined,
  autofocus: true,
})}
<div class="field">
<label for="enroll-name">Name <span class="optional">(optional)</span></label>
<input class="input" id="enroll-name" name="name" type="text" placeholder="${method?.title ?? ""}" maxlength="${NAME_MAX_LENGTH}" autocomplete="off">
</div>
<button type="submit" class="button button-primary">Confirm</button>
</form>
</section>`;
}
