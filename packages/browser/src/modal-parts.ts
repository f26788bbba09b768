// The step-up modal's building blocks: DOM only (no innerHTML), styled by modal-styles.ts.
import { h, uid } from "./dom.js";
import { codeInputAttrs, rememberText } from "./modal-factors.js";
import type { CodePrompt } from "./types.js";

/** The lock badge of the dialog's head, built as DOM (decorative: hidden from assistive tech). */
export function lockIcon(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const attrs: Record<string, string> = {
    viewBox: "0 0 24 24",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
  };
  for (const [name, value] of Object.entries(attrs)) svg.setAttribute(name, value);
  const rect = document.createElementNS(ns, "rect");
  for (const [name, value] of Object.entries({ x: "4", y: "11", width: "16", height: "10", rx: "2" }))
    rect.setAttribute(name, value);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M8 11V7a4 4 0 0 1 8 0v4");
  svg.append(rect, path);
  return svg;
}

/** A labelled code field (attributes and words from the factor's prompt) and its submit button. */
export function codeForm(prompt: CodePrompt, hint: string | undefined, cls: string) {
  const id = uid("stepup-code");
  const hintId = uid("stepup-hint");
  const note = h("p", { id: hintId, class: "su-hint", hidden: !hint }, hint ?? "");
  const input = h("input", {
    id,
    name: "code",
    required: true,
    "aria-describedby": hintId,
    ...codeInputAttrs(prompt),
  });
  const submit = h("button", { type: "submit", class: cls }, prompt.submit ?? "Verify");
  const field = h("div", { class: "su-field" }, h("label", { for: id }, prompt.label), input, note);
  const form = h("form", {}, field, submit);
  /** Shows another hint (or none), e.g. once the code's destination is known. */
  const setHint = (next: string | undefined) => {
    note.textContent = next ?? "";
    note.hidden = !next;
  };
  return { form, input, submit, setHint };
}

/**
 * "Remember this device for N days": a real checkbox in its label, unchecked. One per dialog, read
 * by every verification it makes (code forms, sent codes, the passkey button).
 */
export function rememberBox(days: number) {
  const id = uid("stepup-remember");
  const input = h("input", { type: "checkbox", id, name: "rememberDevice" });
  const label = h("label", { class: "su-remember", for: id }, input, h("span", {}, rememberText(days)));
  return { label, input };
}

/** The first control a user can reach (hidden ones and those in closed `<details>` are skipped). */
export function firstFocusable(root: HTMLElement): HTMLElement | undefined {
  return focusables(root).find((el) => el.matches("input, button"));
}

function focusables(root: HTMLElement): HTMLElement[] {
  const selector = "button, input, summary, a[href], [tabindex]:not([tabindex='-1'])";
  return [...root.querySelectorAll<HTMLElement>(selector)].filter(
    (el) => !el.hasAttribute("disabled") && el.offsetParent !== null,
  );
}

/** Keeps Tab and Shift+Tab inside the dialog (showModal makes the page inert, but not the browser UI). */
export function trapFocus(dialog: HTMLDialogElement): void {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const list = focusables(dialog);
    const first = list[0];
    const last = list[list.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}
