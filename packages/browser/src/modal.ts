import { type ApiResult, callApi, errorCode, errorMessage } from "./api.js";
import { adoptStyles, h, uid } from "./dom.js";
import { type Control, holdFor } from "./hold-for.js";
import { codeForm, lockIcon, ONE_TIME_CODE, trapFocus } from "./modal-parts.js";
import { MODAL_CSS } from "./modal-styles.js";
import { retryText } from "./retry-text.js";
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

/**
 * Shows the step-up as a modal `<dialog>` and resolves when it is verified or dismissed (Escape,
 * Cancel). Focus moves into the dialog, is trapped there, and returns to where it was afterwards.
 */
export function runModal(ctx: ModalContext): Promise<OpenStepUpResult> {
  adoptStyles("modal", MODAL_CSS);
  return new Promise((resolve) => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const titleId = uid("stepup-title");
    const leadId = uid("stepup-lead");
    const error = h("div", { class: "su-error", role: "alert" });
    const totp = ctx.factors.filter((f) => f.type === "totp");
    const keys = supportsPasskeys() ? ctx.factors.filter((f) => f.type === "webauthn") : [];
    const recovery = ctx.factors.find((f) => f.type === "recovery");
    const busy: HTMLButtonElement[] = [];
    // What a 429 holds (the code form, the passkey button; recovery codes are exempt from waits).
    const waitable: Control[] = [];
    const held = new Set<Control>();
    const status = h("p", { class: "su-sr-only", role: "status" });
    let waitButton: HTMLButtonElement | undefined;
    const cancel = h("button", { type: "button", class: "su-link" }, "Cancel");
    let stopHold = () => {};
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
      if (dialog.open) dialog.close();
      dialog.remove();
      previous?.focus();
      resolve(result);
    };
    const setBusy = (on: boolean) => {
      for (const b of busy) b.disabled = on || held.has(b);
      dialog.setAttribute("aria-busy", String(on));
    };
    const settle = (result: ApiResult, retry?: HTMLInputElement) => {
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
        stopHold = holdFor(wait, held, waitButton, status, cancel);
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
    const submitCode = async (factor: OfferedFactor, input: HTMLInputElement) => {
      setBusy(true);
      const path = `api/challenges/${encodeURIComponent(ctx.challengeId)}/verify`;
      const code = input.value.trim();
      try {
        settle(await callApi(ctx.basePath, path, { factor: factor.type, factorId: factor.id, code }), input);
      } catch {
        error.textContent = "Network error. Check your connection and try again.";
      } finally {
        setBusy(false);
      }
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

    if (keys.length > 0) {
      const button = h("button", { type: "button", class: "su-primary" }, "Use a passkey or security key");
      busy.push(button);
      waitable.push(button);
      waitButton = button;
      button.addEventListener("click", async () => {
        setBusy(true);
        error.textContent = "";
        try {
          settle(await verifyWithPasskey(ctx.basePath, ctx.challengeId, ctx.factors));
        } catch (e) {
          error.textContent =
            e instanceof CeremonyError
              ? "The passkey prompt was closed or no matching key was found. Try again."
              : "Network error. Check your connection and try again.";
        } finally {
          setBusy(false);
        }
      });
      body.append(button);
      if (totp.length > 0) body.append(h("div", { class: "su-divider" }, "or"));
    }
    const firstTotp = totp.find((f) => f.primary) ?? totp[0];
    if (firstTotp) {
      const { form, input, submit } = codeForm(
        "Code from your authenticator app",
        ONE_TIME_CODE,
        "Verify",
        keys.length > 0 ? "su-secondary" : "su-primary",
      );
      busy.push(submit);
      waitable.push(input, submit);
      waitButton = submit;
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        void submitCode(firstTotp, input);
      });
      body.append(form);
    }
    if (recovery) {
      const { form, input, submit } = codeForm(
        "Recovery code",
        { autocapitalize: "characters", spellcheck: "false", maxlength: "32" },
        "Use recovery code",
        "su-secondary",
      );
      busy.push(submit);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        void submitCode(recovery, input);
      });
      const details = h("details", {}, h("summary", {}, "Use a recovery code"), form);
      if (!firstTotp && keys.length === 0) details.open = true;
      body.append(details);
    }
    if (!firstTotp && keys.length === 0 && !recovery) {
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
    cancel.addEventListener("click", () => finish(failure(ctx.action, "cancelled")));
    body.append(cancel);

    // Escape (the dialog's cancel) and any other close count as a cancellation.
    dialog.addEventListener("close", () => finish(failure(ctx.action, "cancelled")));
    trapFocus(dialog);
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector<HTMLElement>("input, button");
    first?.focus();
  });
}
