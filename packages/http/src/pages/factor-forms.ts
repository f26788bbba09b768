/**
 * The challenge page's forms, built from each factor's declared prompt (`OfferedFactor.prompt`):
 * nothing here knows a factor type. Code factors are grouped by type; a send-first type shows
 * "Send code" until a code is out, then its code form and a resend form.
 */

import { retryText } from "@stepup/browser/retry-text";
import type { CodePrompt } from "@stepup/core";
import { codeInput, csrfField, fillHint, hiddenField } from "./components.js";
import { html, type SafeHtml } from "./html.js";
import type { ChallengePageData, PageCodeSent, PageFactor } from "./page-types.js";

/** The error alert's id: the input of the form that failed is described by it. */
export const ERROR_ID = "challenge-error";

/** Factors of one type, primary first, with the type's code prompt. */
export interface CodeGroup {
  type: string;
  title: string;
  prompt: CodePrompt;
  factors: PageFactor[];
}

/** Renders forms with unique ids (several code inputs may share a page). */
export class FormContext {
  private next = 0;
  constructor(
    readonly data: ChallengePageData,
    /** Whether the page waits out a 429 (the main code forms are held by the page script). */
    readonly waiting: boolean,
  ) {}

  get action(): string {
    return `${this.data.basePath}/challenge/${encodeURIComponent(this.data.challengeId)}`;
  }

  /** "code" for the page's first input (the main one), then "code-2", "code-3"... */
  id(): string {
    this.next += 1;
    return this.next === 1 ? "code" : `code-${this.next}`;
  }
}

/**
 * "Remember this device for N days" inside a form that verifies (each form posts its own fields,
 * so each code form carries its own box). Nothing when trusted devices are off.
 */
export function rememberBox(data: ChallengePageData, id: string): SafeHtml | "" {
  const days = data.rememberDays ?? 0;
  if (days <= 0) return "";
  return html`<label class="remember" for="${id}"><input type="checkbox" id="${id}" name="rememberDevice" value="1"${data.rememberChecked ? html` checked` : ""}>
<span>Remember this device for ${days === 1 ? "1 day" : `${days} days`}</span></label>`;
}

/** Groups code factors by type, keeping the order of each type's first factor (primary first). */
export function groupByType(factors: readonly PageFactor[]): CodeGroup[] {
  const groups = new Map<string, CodeGroup>();
  for (const f of factors) {
    if (f.prompt.kind !== "code") continue;
    const group = groups.get(f.type);
    if (group) group.factors.push(f);
    else groups.set(f.type, { type: f.type, title: f.title, prompt: f.prompt, factors: [f] });
  }
  return [...groups.values()];
}

/** Keeps Cancel's target across a wrong code (the re-rendered page checks it again: same origin only). */
function cancelField(data: ChallengePageData): SafeHtml | "" {
  return data.cancelUrl === undefined ? "" : hiddenField("cancel", data.cancelUrl);
}

function formHead(ctx: FormContext, type: string): SafeHtml {
  return html`${csrfField(ctx.data.csrfToken)}
${cancelField(ctx.data)}
${hiddenField("factor", type)}`;
}

/** Whether the previous post's error belongs to this form (else: the main form, when none is named). */
function isActive(ctx: FormContext, group: CodeGroup, factorIds: readonly string[], main: boolean): boolean {
  const { active, error, userLocked } = ctx.data;
  if (!error || ctx.waiting) return false;
  if (active === undefined) return main && !userLocked;
  if (active.intent === "send" || active.factor !== group.type) return false;
  return active.factorId === undefined || factorIds.includes(active.factorId);
}

/** Whether a group holds the form that failed, or a code already sent (then its <details> opens). */
export function wantsOpen(ctx: FormContext, group: CodeGroup): boolean {
  const { active, sent } = ctx.data;
  return active?.factor === group.type || group.factors.some((f) => sent?.[f.id] !== undefined);
}

function hint(ctx: FormContext, prompt: CodePrompt, factor: PageFactor, sent?: PageCodeSent) {
  return (
    fillHint(prompt.hint, ctx.data.appName, sent?.destination ?? factor.destination, factor.name) ?? null
  );
}

function factorRadio(factor: PageFactor, checked: boolean): SafeHtml {
  return html`<label class="choice">
<input type="radio" name="factorId" value="${factor.id}"${checked ? html` checked` : ""}>
<span>${factor.name}</span>${factor.primary ? html` <span class="pill">Primary</span>` : ""}</label>`;
}

function factorChoice(group: CodeGroup): SafeHtml {
  const [first] = group.factors;
  if (group.factors.length === 1 && first) return hiddenField("factorId", first.id);
  const choices = group.factors.map((f, i) => factorRadio(f, i === 0));
  return html`<fieldset><legend>Which one? (${group.title})</legend>${choices}</fieldset>`;
}

/** A typed code (TOTP-like): one form, a radio choice when the user has several of the type. */
function typedForm(ctx: FormContext, group: CodeGroup, role: GroupRole): SafeHtml {
  const [first] = group.factors;
  const { main, cls } = role;
  const invalid = isActive(
    ctx,
    group,
    group.factors.map((f) => f.id),
    main,
  );
  const inputId = ctx.id();
  return html`<form method="post" action="${ctx.action}"${role.held ? html` data-stepup-wait` : ""}>
${formHead(ctx, group.type)}
${factorChoice(group)}
${codeInput({
  id: inputId,
  prompt: group.prompt,
  hint: first ? hint(ctx, group.prompt, first) : null,
  errorId: invalid ? ERROR_ID : undefined,
  autofocus: main,
})}
${rememberBox(ctx.data, `${inputId}-remember`)}
<button type="submit" class="button ${cls} button-block">${group.prompt.submit ?? "Verify"}</button>
</form>`;
}

/** "Send code" for one factor of a send-first type (its destination said, when known). */
function sendForm(ctx: FormContext, group: CodeGroup, factor: PageFactor, { cls }: GroupRole): SafeHtml {
  const several = group.factors.length > 1;
  const where = factor.destination ?? factor.name;
  return html`<form method="post" action="${ctx.action}">
${formHead(ctx, group.type)}
${hiddenField("factorId", factor.id)}
${hiddenField("intent", "send")}
${several ? "" : html`<p class="hint">We'll send a code to <strong>${where}</strong>.</p>`}
<button type="submit" class="button ${cls} button-block">${several ? html`Send code to ${where}` : "Send code"}</button>
</form>`;
}

/**
 * "Resend code", marked with the seconds until a resend is allowed: the page script keeps the
 * button disabled and counts down; without it the button stays enabled (an early press is a 429).
 */
function resendForm(ctx: FormContext, group: CodeGroup, factor: PageFactor, sent: PageCodeSent): SafeHtml {
  const wait = Math.ceil(sent.resendIn);
  const text =
    wait > 0
      ? `You can ask for a new code in ${retryText(wait)}.`
      : "Didn't get it? You can ask for a new code.";
  return html`<form method="post" action="${ctx.action}" class="resend"${wait > 0 ? html` data-stepup-resend="${wait}"` : ""}>
${formHead(ctx, group.type)}
${hiddenField("factorId", factor.id)}
${hiddenField("intent", "send")}
<p class="hint" data-stepup-resend-text>${text}</p>
<button type="submit" class="button button-secondary button-small">Resend code</button>
</form>`;
}

/** The code form of a factor whose code was sent, then its resend form. */
function sentForms(
  ctx: FormContext,
  group: CodeGroup,
  factor: PageFactor,
  sent: PageCodeSent,
  role: GroupRole,
): SafeHtml {
  const { main, cls } = role;
  const invalid = isActive(ctx, group, [factor.id], main);
  const inputId = ctx.id();
  return html`<form method="post" action="${ctx.action}"${role.held ? html` data-stepup-wait` : ""}>
${formHead(ctx, group.type)}
${hiddenField("factorId", factor.id)}
${codeInput({
  id: inputId,
  prompt: group.prompt,
  hint: hint(ctx, group.prompt, factor, sent) ?? `Enter the code we sent to ${sent.destination}.`,
  errorId: invalid ? ERROR_ID : undefined,
  autofocus: main,
})}
${rememberBox(ctx.data, `${inputId}-remember`)}
<button type="submit" class="button ${cls} button-block">${group.prompt.submit ?? "Verify"}</button>
</form>
${resendForm(ctx, group, factor, sent)}`;
}

/** Where a group sits on the page. */
export interface GroupRole {
  /** The page's first group: the primary button, and its input takes focus and a nameless error. */
  main: boolean;
  /** Held by the page script during a 429's wait (not the recovery path, which skips the wait). */
  held: boolean;
  /** The submit buttons' classes. */
  cls: string;
}

/** A group's forms: a typed code's one form, or per factor of a send-first type its code form (a code is out) or its Send form. */
export function groupForms(ctx: FormContext, group: CodeGroup, role: GroupRole): SafeHtml {
  if (!group.prompt.send) return typedForm(ctx, group, role);
  return html`${group.factors.map((f) => {
    const sent = ctx.data.sent?.[f.id];
    return sent ? sentForms(ctx, group, f, sent, role) : sendForm(ctx, group, f, role);
  })}`;
}
