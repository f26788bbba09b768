import { type ApiResult, callApi, errorCode, errorMessage } from "./api.js";
import { adoptStyles, h, uid } from "./dom.js";
import { type Control, holdFor } from "./hold-for.js";
import { type CodeFactor, hintText, planFactors, verifyBody } from "./modal-factors.js";
import { codeForm, firstFocusable, lockIcon, rememberBox, trapFocus } from "./modal-parts.js";
import { MODAL_CSS } from "./modal-styles.js";
import { retryText } from "./retry-text.js";
import { sendCodeSection } from "./send-code.js";
import type { OfferedFactor, OpenStepUpResult } from "./types.js";
import { CeremonyError, supportsPasskeys, verifyWithPasskey } from "./webauthn.js";

/** What the modal needs: an open challenge and what it unlocks. */
export interface ModalContext {
  basePath: string;
  resource: string;
  action: string;
  /** The rule's words for the action ("open the admin panel"); else "<action> <resource>". */
  label?: string;
  challengeId: string;
  factors: readonly OfferedFactor[];
  /** What is being approved, in words (a transaction rule's description). */
  description?: string;
  /** Days "Remember this device" lasts: the box is offered when given (a whole number above 0). */
  trustedDeviceDays?: number;
}

/** What the dialog's sections share: its alert, its busy state and waits, and its end. */
export interface Dialog {
  ctx: ModalContext;
  /** The alert line (text only). */
  error: HTMLElement;
  /** Disabled while any request runs (or while blocked). */
  busy(control: HTMLButtonElement): void;
  /** Held by a verification wait (429 too_many_attempts); recovery codes are exempt. */
  waitable(...controls: Control[]): void;
  /** Keeps `controls` disabled until the returned function is called. */
  block(controls: readonly Control[]): () => void;
  /** A 429's wait on `controls`, counted down on `button` (hold-for.ts). */
  hold(seconds: number, controls: readonly Control[], button: HTMLButtonElement): void;
  /** Runs a request with the dialog busy; a network failure is said in the alert. */
  request(run: () => Promise<void>): Promise<void>;
  /** Verifies a typed code with `factor` (with `rememberDevice: true` when the box is ticked). */
  verify(factor: OfferedFactor, input: HTMLInputElement, submit: HTMLButtonElement): Promise<void>;
  /** Whether "Remember this device" is ticked (false when it is not offered). */
  remembered(): boolean;
  /** Ends the dialog unsuccessfully with `code` (a spent or unknown challenge). */
  end(code: string): void;
  /** Runs `stop` when the dialog closes (timers). */
  onClose(stop: () => void): void;
}

/** A failed (or cancelled) step-up in the documented result shape. */
export function failure(action: string, error: string): OpenStepUpResult {
  return { success: false, payload: [{ success: false, sid: null, timestamp: null, action, error }] };
}

function success(action: string, body: Record<string, unknown>): OpenStepUpResult {
  const sid = typeof body.sid === "string" ? body.sid : null;
  const timestamp = typeof body.timestamp === "string" ? body.timestamp : null;
  return { success: true, payload: [{ success: true, sid, timestamp, action, error: null }] };
}

const NETWORK_ERROR = "Network error. Check your connection and try again.";

/** A typed-code form for `factor` (not sent first): its prompt's label, field, hint and button. */
function codeSection(d: Dialog, factor: CodeFactor, cls: string, exempt = false) {
  const { form, input, submit } = codeForm(factor.prompt, hintText(factor.prompt, factor.destination), cls);
  d.busy(submit);
  if (!exempt) d.waitable(input, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void d.verify(factor, input, submit);
  });
  return form;
}

/**
 * Shows the step-up as a modal `<dialog>` and resolves when it is verified or dismissed (Escape,
 * Cancel). Focus moves into the dialog, is trapped there, and returns to where it was afterwards.
 * Every factor is rendered from its declared prompt: passkey button, typed code, or send-then-type.
 */
export function runModal(ctx: ModalContext): Promise<OpenStepUpResult> {
  adoptStyles("modal", MODAL_CSS);
  return new Promise((resolve) => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const titleId = uid("stepup-title");
    const leadId = uid("stepup-lead");
    const error = h("div", { class: "su-error", role: "alert" });
    const plan = planFactors(ctx.factors, supportsPasskeys());
    const busyControls: HTMLButtonElement[] = [];
    // What a 429 too_many_attempts holds (code forms, the passkey button; not recovery codes).
    const waitable: Control[] = [];
    const held = new Set<Control>();
    // Every reason a control stays disabled besides a running request (waits, resend countdowns).
    const blocks = new Set<Set<Control>>([held]);
    const blocked = (c: Control) => [...blocks].some((set) => set.has(c));
    const stops: (() => void)[] = [];
    const status = h("p", { class: "su-sr-only", role: "status" });
    const cancel = h("button", { type: "button", class: "su-link" }, "Cancel");
    const remember = ctx.trustedDeviceDays ? rememberBox(ctx.trustedDeviceDays) : undefined;
    let stopHold = () => {};
    let running = false;
    let done = false;

    const body = h("div", { class: "su-body" });
    const dialog = h(
      "dialog",
      { class: "stepup-modal", "aria-labelledby": titleId, "aria-describedby": leadId },
      body,
    );
    const finish = (result: OpenStepUpResult) => {
      if (done) return;
      done = true;
      stopHold();
      for (const stop of stops) stop();
      if (dialog.open) dialog.close();
      dialog.remove();
      previous?.focus();
      resolve(result);
    };
    const setBusy = (on: boolean) => {
      running = on;
      for (const b of busyControls) b.disabled = on || blocked(b);
      dialog.setAttribute("aria-busy", String(on));
    };
    const settle = (result: ApiResult, retry?: HTMLInputElement, button?: HTMLButtonElement) => {
      if (result.ok) return finish(success(ctx.action, result.body));
      // This challenge is over (spent or gone): say so, and let the caller start again.
      const code = errorCode(result);
      if (code === "challenge_exhausted" || code === "challenge_not_found") {
        return finish(failure(ctx.action, code));
      }
      const wait = result.body.retryAfter;
      if (code === "too_many_attempts" && typeof wait === "number" && wait > 0) {
        error.textContent = `Too many attempts. Verification is paused for ${retryText(wait)}.`;
        stopHold();
        for (const control of waitable) held.add(control);
        stopHold = holdFor(wait, held, button, status, cancel);
        return;
      }
      const left = result.body.attemptsRemaining;
      error.textContent =
        errorMessage(result) +
        (typeof left === "number" ? ` ${left} attempt${left === 1 ? "" : "s"} left.` : "");
      if (retry) {
        retry.value = "";
        retry.setAttribute("aria-invalid", "true");
        retry.focus();
      }
    };
    const request = async (run: () => Promise<void>) => {
      setBusy(true);
      try {
        await run();
      } catch {
        error.textContent = NETWORK_ERROR;
      } finally {
        if (!done) setBusy(false);
      }
    };
    const d: Dialog = {
      ctx,
      error,
      busy: (control) => busyControls.push(control),
      waitable: (...controls) => waitable.push(...controls),
      block(controls) {
        const set = new Set<Control>(controls);
        blocks.add(set);
        for (const c of controls) c.disabled = true;
        return () => {
          blocks.delete(set);
          for (const c of controls) {
            const busy = c instanceof HTMLButtonElement && busyControls.includes(c);
            c.disabled = (running && busy) || blocked(c);
          }
        };
      },
      hold(seconds, controls, button) {
        const set = new Set<Control>(controls);
        blocks.add(set);
        const stop = holdFor(seconds, set, button, status, cancel);
        stops.push(() => {
          stop();
          blocks.delete(set);
        });
      },
      request,
      verify: (factor, input, submit) =>
        request(async () => {
          const path = `api/challenges/${encodeURIComponent(ctx.challengeId)}/verify`;
          const code = input.value.trim();
          settle(await callApi(ctx.basePath, path, verifyBody(factor, code, d.remembered())), input, submit);
        }),
      remembered: () => remember?.input.checked === true,
      end: (code) => finish(failure(ctx.action, code)),
      onClose: (stop) => stops.push(stop),
    };

    // Text nodes only: the rule's label is shown, never parsed as markup.
    const lead = h(
      "p",
      { id: leadId, class: "su-lead" },
      "You're about to ",
      h("strong", {}, ctx.label ?? `${ctx.action} ${ctx.resource}`),
      ". Confirm it's you to continue.",
    );
    body.append(
      h(
        "div",
        { class: "su-head" },
        h("div", { class: "su-badge" }, lockIcon()),
        h("h2", { id: titleId }, "Confirm it's you"),
        lead,
      ),
    );
    if (ctx.description) {
      // Text nodes only: the server's words are shown, never parsed as markup.
      body.append(
        h(
          "div",
          { class: "su-approval", role: "group", "aria-label": "What you are approving" },
          h("p", { class: "su-approval-label" }, "You are approving"),
          h("p", { class: "su-approval-text" }, h("strong", {}, ctx.description)),
        ),
      );
    }
    body.append(error, status);

    if (plan.keys.length > 0) {
      const button = h("button", { type: "button", class: "su-primary" }, "Use a passkey or security key");
      d.busy(button);
      d.waitable(button);
      button.addEventListener("click", () =>
        request(async () => {
          error.textContent = "";
          try {
            const options = { rememberDevice: d.remembered() };
            settle(
              await verifyWithPasskey(ctx.basePath, ctx.challengeId, plan.keys, options),
              undefined,
              button,
            );
          } catch (e) {
            if (!(e instanceof CeremonyError)) throw e;
            error.textContent = "The passkey prompt was closed or no matching key was found. Try again.";
          }
        }),
      );
      body.append(button);
      if (plan.groups.length > 0) body.append(h("div", { class: "su-divider" }, "or"));
    }
    const section = (group: CodeFactor[], cls: string) => {
      const [first] = group;
      if (!first) return h("div");
      // One form per type: the primary (or first) factor of a typed code; every factor of a sent one.
      return first.prompt.send ? sendCodeSection(d, group, cls) : codeSection(d, first, cls);
    };
    plan.groups.forEach((group, i) => {
      if (i === 0) {
        body.append(section(group, plan.keys.length > 0 ? "su-secondary" : "su-primary"));
        return;
      }
      const title = group[0]?.title ?? "";
      body.append(h("details", {}, h("summary", {}, `Use ${title} instead`), section(group, "su-secondary")));
    });
    const usable = plan.keys.length > 0 || plan.groups.length > 0;
    if (plan.recovery) {
      const form = codeSection(d, plan.recovery, "su-secondary", true);
      const details = h("details", {}, h("summary", {}, "Use a recovery code"), form);
      if (!usable) details.open = true;
      body.append(details);
    }
    if (!usable && plan.unusableKeys > 0) {
      body.append(h("p", {}, "Your passkey or security key can't be used in this browser."));
    } else if (!usable && !plan.recovery) {
      const href = `${ctx.basePath.replace(/\/+$/, "")}/console`;
      body.append(
        h(
          "p",
          {},
          "This needs two-step verification, which isn't set up yet. ",
          h("a", { href }, "Set it up"),
        ),
      );
    }
    // One box for every way to verify, below them all (nothing to remember when none is usable).
    if (remember && (usable || plan.recovery)) body.append(remember.label);
    cancel.addEventListener("click", () => finish(failure(ctx.action, "cancelled")));
    body.append(cancel);

    // Escape (the dialog's cancel) and any other close count as a cancellation.
    dialog.addEventListener("close", () => finish(failure(ctx.action, "cancelled")));
    trapFocus(dialog);
    document.body.append(dialog);
    dialog.showModal();
    firstFocusable(dialog)?.focus();
  });
}
