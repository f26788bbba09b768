import { retryText } from "@stepup/browser/retry-text";
import { pageScript } from "../assets/page-script.js";
import {
  cardHead,
  codeInput,
  csrfField,
  errorAlert,
  factorTypeLabel,
  hiddenField,
  icons,
  plural,
  safeUrl,
  samePath,
} from "./components.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import type { ChallengePageData, PageFactor } from "./page-types.js";

const TITLE = "Confirm it's you";
const ERROR_ID = "challenge-error";

/** Factor types this page can verify: with a plain HTML form, or (webauthn) with the page script. */
const USABLE_TYPES = new Set(["totp", "recovery", "webauthn"]);

function primaryFirst<T extends PageFactor>(factors: readonly T[]): T[] {
  // A stable sort: the primary moves to the front, the others keep the server's order.
  return [...factors].sort((a, b) => Number(b.primary) - Number(a.primary));
}

function errorBox(error: string, attemptsRemaining: number | undefined): SafeHtml {
  const left =
    attemptsRemaining === undefined
      ? ""
      : attemptsRemaining <= 0
        ? " No attempts remaining."
        : ` ${plural(attemptsRemaining, "attempt", "attempts")} remaining.`;
  return errorAlert(
    html`<strong>${error}</strong>${left ? html`<span class="detail">${left}</span>` : ""}`,
    ERROR_ID,
  );
}

/**
 * A 429 with Retry-After: says when, in words that need no script. The page script keeps the
 * `data-stepup-retry` text counting down and re-enables the forms marked `data-stepup-wait`.
 */
function waitBox(retryAfter: number, hasRecovery: boolean): SafeHtml {
  const recovery = hasRecovery ? " You can still use a recovery code." : "";
  return errorAlert(
    html`<strong>Too many attempts.</strong><span class="detail"> For your security, verification is paused. <span data-stepup-retry>Try again in ${retryText(retryAfter)}.</span>${recovery}</span>`,
    ERROR_ID,
  );
}

function factorRadio(factor: PageFactor, checked: boolean): SafeHtml {
  return html`<label class="choice">
<input type="radio" name="factorId" value="${factor.id}"${checked ? html` checked` : ""}>
<span>${factor.name}</span>${factor.primary ? html` <span class="pill">Primary</span>` : ""}</label>`;
}

function factorChoice(factors: readonly PageFactor[]): SafeHtml {
  const [first] = factors;
  if (factors.length === 1 && first) return hiddenField("factorId", first.id);
  const choices = factors.map((f, i) => factorRadio(f, i === 0));
  return html`<fieldset><legend>Which authenticator app?</legend>${choices}</fieldset>`;
}

/** Keeps Cancel's target across a wrong code (the re-rendered page checks it again: same origin only). */
function cancelField(data: ChallengePageData): SafeHtml | "" {
  return data.cancelUrl === undefined ? "" : hiddenField("cancel", data.cancelUrl);
}

/** `invalid`: the previous code was wrong (the input is marked invalid and described by the alert). */
function totpForm(data: ChallengePageData, factors: readonly PageFactor[], invalid: boolean): SafeHtml {
  const action = `${data.basePath}/challenge/${encodeURIComponent(data.challengeId)}`;
  return html`<form method="post" action="${action}" data-stepup-wait>
${csrfField(data.csrfToken)}
${cancelField(data)}
${hiddenField("factor", "totp")}
${factorChoice(factors)}
${codeInput({
  id: "code",
  label: "Verification code",
  errorId: invalid ? ERROR_ID : undefined,
  hint: `Open your authenticator app and enter the current 6-digit code for ${data.appName}.`,
})}
<button type="submit" class="button button-primary button-block">Verify</button>
</form>`;
}

function recoveryForm(data: ChallengePageData, factor: PageFactor, open: boolean): SafeHtml {
  const action = `${data.basePath}/challenge/${encodeURIComponent(data.challengeId)}`;
  return html`<details class="recovery"${open ? html` open` : ""}>
<summary>Use a recovery code</summary>
<form method="post" action="${action}">
${csrfField(data.csrfToken)}
${cancelField(data)}
${hiddenField("factor", "recovery")}
${hiddenField("factorId", factor.id)}
<div class="field">
<label for="recovery-code">Recovery code</label>
<input class="input" id="recovery-code" name="code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" required placeholder="XXXX-XXXX-XXXX-XXXX" aria-describedby="recovery-hint">
<p class="hint" id="recovery-hint">Each recovery code works once.</p>
</div>
<button type="submit" class="button button-secondary button-block">Use recovery code</button>
</form>
</details>`;
}

function unavailableFactors(factors: readonly PageFactor[], heading: string): SafeHtml {
  const rows = factors.map(
    (f) => html`<li aria-disabled="true"><span class="name">${f.name}</span>
${factorTypeLabel(f.type)} · not available on this page yet</li>`,
  );
  return html`<h2 class="divider">${heading}</h2><ul class="other-factors">${rows}</ul>`;
}

/**
 * The passkey button: hidden until the page script finds WebAuthn support (it cannot work without
 * JavaScript), with a note shown to browsers without it.
 */
function passkeySection(hasCodeForm: boolean): SafeHtml {
  return html`<div id="stepup-passkey" class="passkey" hidden>
<button type="button" class="button button-primary button-block">Use a passkey or security key</button>
<p class="hint passkey-status" data-stepup-status role="status"></p>
${hasCodeForm ? html`<p class="divider-or" aria-hidden="true">or</p>` : ""}
</div>
<p class="hint" data-stepup-nojs>Your passkey or security key needs JavaScript and a browser that supports passkeys.</p>`;
}

function setupPrompt(consoleUrl: string): SafeHtml {
  return html`<p>A second factor, like a code from an authenticator app, protects sensitive actions even if
someone learns your password. It takes about a minute to set up.</p>
<a class="button button-primary button-block" href="${safeUrl(consoleUrl)}">Set up two-step verification</a>`;
}

/** What is being approved, as the app described it (a transaction rule's `describe`). */
function approval(description: string): SafeHtml {
  return html`<div class="approval" role="group" aria-label="What you are approving"><p class="approval-label">You are approving</p><p class="approval-text"><strong>${description}</strong></p></div>`;
}

/** Locked after too many failures: says so, and where the way back in is (the recovery form below). */
function lockedNotice(hasRecovery: boolean): SafeHtml {
  const way = hasRecovery
    ? " Use one of your recovery codes below to get back in, or contact support."
    : " Contact support to unlock it.";
  return errorAlert(
    html`<strong>Verification is locked.</strong><span class="detail"> There were too many failed attempts, so your usual methods are locked.${way}</span>`,
    "challenge-locked",
  );
}

function lead(data: ChallengePageData, hasUsable: boolean, hasKeys: boolean): SafeHtml {
  const subject = html`<strong>${data.label ?? `${data.action} ${data.resource}`}</strong>`;
  if (data.userLocked) return html`You're about to ${subject}.`;
  if (data.factors.length === 0) {
    return html`You're about to ${subject}. This needs two-step verification, which isn't set up yet.`;
  }
  if (!hasUsable && hasKeys)
    return html`You're about to ${subject}. Use your passkey or security key to continue.`;
  if (!hasUsable) return html`You're about to ${subject}. Confirm with a second factor to continue.`;
  // Without JavaScript the passkey button stays hidden, so the lead still points at the code.
  return html`You're about to ${subject}. Enter a code from your authenticator app to continue.`;
}

/**
 * The step-up challenge page: a no-JavaScript form that posts a one-time code to
 * `${basePath}/challenge/${challengeId}` (fields csrf, factor, factorId, code).
 * Factor types this page cannot verify yet are listed as unavailable rather than failing.
 *
 * @example
 * pageResponse(renderChallengePage({ ...base, challengeId, resource: "account", action: "delete",
 *   factors, csrfToken, consoleUrl }), 401, headers, base.nonce);
 */
export function renderChallengePage(data: ChallengePageData): string {
  const usable = primaryFirst(data.factors.filter((f) => f.type === "totp"));
  const recovery = data.factors.find((f) => f.type === "recovery");
  const keys = primaryFirst(data.factors.filter((f) => f.type === "webauthn"));
  const others = primaryFirst(data.factors.filter((f) => !USABLE_TYPES.has(f.type)));
  const waiting = data.retryAfter !== undefined && data.retryAfter > 0 ? data.retryAfter : undefined;
  const script = pageScript(data, {
    page: "challenge",
    basePath: data.basePath,
    challengeId: data.challengeId,
    factors: keys,
    after: data.after ?? { method: "GET", url: "/" },
    ...(waiting === undefined ? {} : { retryAfter: waiting }),
  });
  // A wait explains itself; a lock is said once, with any error of the recovery code tried after it.
  const error = data.error ? errorBox(data.error, data.attemptsRemaining) : "";
  const alert = data.userLocked
    ? html`${lockedNotice(recovery !== undefined)}${error}`
    : waiting !== undefined
      ? waitBox(waiting, recovery !== undefined)
      : error;
  const body = html`${cardHead(icons.lock, TITLE, lead(data, usable.length > 0, keys.length > 0))}
${data.description === undefined ? "" : approval(data.description)}
${alert}
${keys.length > 0 ? passkeySection(usable.length > 0) : ""}
${usable.length > 0 ? totpForm(data, usable, !data.userLocked && waiting === undefined && Boolean(data.error)) : ""}
${recovery ? recoveryForm(data, recovery, usable.length === 0 && keys.length === 0) : ""}
${data.factors.length === 0 ? setupPrompt(data.consoleUrl) : ""}
${others.length > 0 ? unavailableFactors(others, usable.length > 0 ? "Other methods" : "Your methods") : ""}
${usable.length === 0 && keys.length === 0 && others.length > 0 ? html`<a class="button button-secondary button-block" href="${safeUrl(data.consoleUrl)}">Add an authenticator app</a>` : ""}
${data.cancelUrl === undefined ? "" : html`<div class="actions"><a class="link-button" href="${samePath(data.cancelUrl)}">Cancel</a></div>`}
${keys.length > 0 || waiting !== undefined ? script : ""}`;
  return layout({ appName: data.appName, nonce: data.nonce, title: TITLE, body });
}
