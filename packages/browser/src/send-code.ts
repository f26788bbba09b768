// A send-first code factor in the modal (a code sent by email, SMS or any plugin whose prompt has
// `send`): "Send code to <destination>" per factor, then the code form, a status line and a resend
// button that counts down until the server allows another send.
import { callApi, errorCode, errorMessage } from "./api.js";
import { h } from "./dom.js";
import type { Dialog } from "./modal.js";
import { type CodeFactor, hintText, resendAtMs } from "./modal-factors.js";
import { codeForm } from "./modal-parts.js";
import { retryText } from "./retry-text.js";

const RESEND = "Resend code";
const DELIVERY_FAILED = "We couldn't send the code. Try again, or choose another way to verify.";
const RATE_LIMITED = "Too many codes were sent. Wait a little before asking for another.";

/** The section of one type's send-first factors (`group`, primary first), styled `cls`. */
export function sendCodeSection(d: Dialog, group: readonly CodeFactor[], cls: string): HTMLElement {
  const { ctx, error } = d;
  const [first] = group;
  if (!first) return h("div");
  const { form, input, submit, setHint } = codeForm(first.prompt, undefined, cls);
  // The method in words ("Email"), until the code form (which has its own label) replaces it.
  const method = h("p", { class: "su-method" }, first.title);
  const note = h("p", { class: "su-note", role: "status" });
  const resend = h("button", { type: "button", class: "su-link" }, RESEND);
  const sent = h("div", { class: "su-sent", hidden: true }, note, form, resend);
  d.busy(submit);
  d.busy(resend);
  d.waitable(input, submit);
  let current: CodeFactor | undefined;
  let stopCountdown = () => {};
  d.onClose(() => stopCountdown());

  /** Resend stays disabled, its label counting down, until `untilMs`. */
  const countDown = (untilMs: number) => {
    stopCountdown();
    const release = d.block([resend]);
    const tick = () => {
      const left = (untilMs - Date.now()) / 1000;
      if (left <= 0) return stopCountdown();
      const text = `${RESEND} in ${retryText(left)}`;
      if (resend.textContent !== text) resend.textContent = text;
    };
    const timer = setInterval(tick, 250);
    stopCountdown = () => {
      clearInterval(timer);
      resend.textContent = RESEND;
      release();
      stopCountdown = () => {};
    };
    tick();
  };

  const buttons = group.map((factor) => {
    // Text nodes only: the destination and name are the server's (or a user's) words.
    const to = factor.destination ?? (group.length > 1 ? factor.name : undefined);
    const button = h("button", { type: "button", class: cls }, to ? `Send code to ${to}` : "Send code");
    d.busy(button);
    button.addEventListener("click", () => void send(factor, button));
    return { factor, button };
  });

  const shown = (factor: CodeFactor, body: Record<string, unknown>) => {
    current = factor;
    const destination =
      typeof body.destination === "string" && body.destination ? body.destination : factor.destination;
    note.textContent = destination ? `We sent a code to ${destination}.` : "We sent you a code.";
    setHint(hintText(factor.prompt, destination));
    for (const b of buttons) b.button.hidden = b.factor === factor;
    sent.hidden = false;
    method.hidden = true;
    input.value = "";
    input.removeAttribute("aria-invalid");
    countDown(resendAtMs(body, Date.now()));
    input.focus();
  };

  async function send(factor: CodeFactor, trigger: HTMLButtonElement): Promise<void> {
    await d.request(async () => {
      error.textContent = "";
      const path = `api/challenges/${encodeURIComponent(ctx.challengeId)}/start`;
      const result = await callApi(ctx.basePath, path, { factor: factor.type, factorId: factor.id });
      if (result.ok) return shown(factor, result.body);
      const code = errorCode(result);
      if (code === "challenge_exhausted" || code === "challenge_not_found") return d.end(code);
      if (code === "delivery_failed") {
        error.textContent = DELIVERY_FAILED;
        return;
      }
      if (code !== "rate_limited") {
        error.textContent = errorMessage(result);
        return;
      }
      const detail = result.body.detail;
      error.textContent = typeof detail === "string" && detail ? detail : RATE_LIMITED;
      const wait = result.body.retryAfter;
      if (typeof wait !== "number" || wait <= 0) return;
      if (trigger === resend) stopCountdown();
      d.hold(wait, [trigger], trigger);
    });
  }

  resend.addEventListener("click", () => {
    if (current) void send(current, resend);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (current) void d.verify(current, input, submit);
  });
  return h("div", { class: "su-send" }, method, sent, ...buttons.map((b) => b.button));
}
