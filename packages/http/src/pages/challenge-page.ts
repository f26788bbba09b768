import { retryText } from "@stepup/browser/retry-text";
import { pageScript } from "../assets/page-script.js";
import { cardHead, errorAlert, icons, infoNotice, plural, safeUrl, samePath } from "./components.js";
import {
  type CodeGroup,
  ERROR_ID,
  FormContext,
  groupByType,
  groupForms,
  rememberBox,
  wantsOpen,
} from "./factor-forms.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import type { ChallengePageData, PageFactor } from "./page-types.js";

const TITLE = "Confirm it's you";

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

/** Another type of code than the main one, folded away: "Use <title> instead". */
function otherGroup(ctx: FormContext, group: CodeGroup): SafeHtml {
  return html`<details class="other-method"${wantsOpen(ctx, group) ? html` open` : ""}>
<summary>Use ${group.title} instead</summary>
${groupForms(ctx, group, { main: false, held: true, cls: "button-secondary" })}
</details>`;
}

/** The recovery path, folded away unless nothing else is usable (or it is the form that failed). */
function recoveryGroups(ctx: FormContext, groups: readonly CodeGroup[], open: boolean): SafeHtml {
  const isOpen = open || groups.some((g) => ctx.data.active?.factor === g.type);
  return html`<details class="recovery"${isOpen ? html` open` : ""}>
<summary>Use a recovery code</summary>
${groups.map((g) => groupForms(ctx, g, { main: false, held: false, cls: "button-secondary" }))}
</details>`;
}

function unavailableFactors(factors: readonly PageFactor[], heading: string): SafeHtml {
  const rows = factors.map(
    (f) => html`<li aria-disabled="true"><span class="name">${f.name}</span>
${f.title} · not available on this page yet</li>`,
  );
  return html`<h2 class="divider">${heading}</h2><ul class="other-factors">${rows}</ul>`;
}

/**
 * The passkey button: hidden until the page script finds WebAuthn support (it cannot work without
 * JavaScript), with a note shown to browsers without it.
 */
function passkeySection(data: ChallengePageData, hasCodeForm: boolean): SafeHtml {
  return html`<div id="stepup-passkey" class="passkey" hidden>
${rememberBox(data, "passkey-remember")}
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

/** "Authenticator app" -> "authenticator app", but "SMS code" keeps its capitals. */
function inSentence(title: string): string {
  return /^[A-Z][a-z]/.test(title) ? title.charAt(0).toLowerCase() + title.slice(1) : title;
}

function lead(data: ChallengePageData, main: CodeGroup | undefined, hasKeys: boolean): SafeHtml {
  const hasUsable = main !== undefined;
  const subject = html`<strong>${data.label ?? `${data.action} ${data.resource}`}</strong>`;
  if (data.userLocked) return html`You're about to ${subject}.`;
  if (data.factors.length === 0) {
    return html`You're about to ${subject}. This needs two-step verification, which isn't set up yet.`;
  }
  if (!hasUsable && hasKeys)
    return html`You're about to ${subject}. Use your passkey or security key to continue.`;
  if (!hasUsable) return html`You're about to ${subject}. Confirm with a second factor to continue.`;
  // Without JavaScript the passkey button stays hidden, so the lead still points at the code.
  return html`You're about to ${subject}. Confirm with your ${inSentence(main.title)} to continue.`;
}

/**
 * The step-up challenge page, built from each offered factor's prompt: code factors as no-JavaScript
 * forms posting to `${basePath}/challenge/${challengeId}` (fields csrf, factor, factorId, code; or
 * `intent=send` for a factor whose code is sent first), grouped by type with the primary's first;
 * WebAuthn with the page script; a recovery path folded away. Kinds of prompt this page cannot
 * render are listed as unavailable rather than failing.
 *
 * @example
 * pageResponse(renderChallengePage({ ...base, challengeId, resource: "account", action: "delete",
 *   factors, csrfToken, consoleUrl }), 401, headers, base.nonce);
 */
export function renderChallengePage(data: ChallengePageData): string {
  const ordered = primaryFirst(data.factors);
  const [main, ...rest] = groupByType(ordered.filter((f) => !f.recovery));
  const recovery = groupByType(ordered.filter((f) => f.recovery));
  const keys = ordered.filter((f) => f.prompt.kind === "webauthn");
  const others = ordered.filter((f) => f.prompt.kind !== "code" && f.prompt.kind !== "webauthn");
  const waiting = data.retryAfter !== undefined && data.retryAfter > 0 ? data.retryAfter : undefined;
  const ctx = new FormContext(data, waiting !== undefined);
  const hasRecovery = recovery.length > 0;
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
    ? html`${lockedNotice(hasRecovery)}${error}`
    : waiting !== undefined
      ? waitBox(waiting, hasRecovery)
      : error;
  const forms = html`${main ? groupForms(ctx, main, { main: true, held: true, cls: "button-primary" }) : ""}
${rest.map((g) => otherGroup(ctx, g))}
${hasRecovery ? recoveryGroups(ctx, recovery, main === undefined && keys.length === 0) : ""}`;
  // The script also counts down a resend's wait; the page works without it.
  const resend = forms.value.includes("data-stepup-resend=");
  const body = html`${cardHead(icons.lock, TITLE, lead(data, main, keys.length > 0))}
${data.description === undefined ? "" : approval(data.description)}
${alert}
${data.notice ? infoNotice(data.notice) : ""}
${keys.length > 0 ? passkeySection(data, main !== undefined) : ""}
${forms}
${data.factors.length === 0 ? setupPrompt(data.consoleUrl) : ""}
${others.length > 0 ? unavailableFactors(others, main ? "Other methods" : "Your methods") : ""}
${main === undefined && keys.length === 0 && others.length > 0 ? html`<a class="button button-secondary button-block" href="${safeUrl(data.consoleUrl)}">Set up another method</a>` : ""}
${data.cancelUrl === undefined ? "" : html`<div class="actions"><a class="link-button" href="${samePath(data.cancelUrl)}">Cancel</a></div>`}
${keys.length > 0 || waiting !== undefined || resend ? script : ""}`;
  return layout({ appName: data.appName, nonce: data.nonce, title: TITLE, body });
}
