import { errorMessage } from "./api.js";
import { h } from "./dom.js";
import { readFactors } from "./open-step-up.js";
import { retryText } from "./retry-text.js";
import { stepUpFetch } from "./step-up-fetch.js";
import { CeremonyError, registerPasskey, supportsPasskeys, verifyWithPasskey } from "./webauthn.js";

/** Where a successful step-up on the challenge page continues (mirrors the no-JS form flow). */
interface After {
  method: "GET" | "POST";
  url: string;
  fields?: [string, string][];
}

function readData(): Record<string, unknown> | undefined {
  const el = document.getElementById("stepup-data");
  if (!el?.textContent) return undefined;
  try {
    const data: unknown = JSON.parse(el.textContent);
    return typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sameOriginPath(url: unknown): string {
  if (typeof url !== "string") return "/";
  const u = new URL(url, location.href);
  return u.origin === location.origin ? u.pathname + u.search + u.hash : "/";
}

/** GET: load the protected URL again; POST: re-submit the interrupted form's fields. */
function continueAfter(after: After): void {
  const url = sameOriginPath(after.url);
  if (after.method !== "POST") {
    location.replace(url);
    return;
  }
  const form = document.createElement("form");
  form.method = "post";
  form.action = url;
  for (const [name, value] of after.fields ?? []) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  // The prototype's submit: a field named "submit" would shadow form.submit.
  HTMLFormElement.prototype.submit.call(form);
}

/** Shows a JS-only block and hides its no-JS note, when the browser can run passkeys. */
function reveal(sectionId: string): HTMLElement | undefined {
  const section = document.getElementById(sectionId);
  if (!section || !supportsPasskeys()) return undefined;
  section.hidden = false;
  for (const note of document.querySelectorAll<HTMLElement>("[data-stepup-nojs]")) note.hidden = true;
  return section;
}

function wire(section: HTMLElement, run: (status: HTMLElement) => Promise<void>): void {
  const button = section.querySelector("button");
  const status = section.querySelector<HTMLElement>("[data-stepup-status]");
  if (!button || !status) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    try {
      await run(status);
    } catch (error) {
      status.textContent =
        error instanceof CeremonyError
          ? "The passkey prompt was closed or no matching key was found. Try again."
          : "Network error. Check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * A 429's wait on the challenge page: the code form (`[data-stepup-wait]`) and the passkey button stay disabled
 * and `[data-stepup-retry]` counts down until the server allows the next attempt. The alert it
 * sits in stops being a live region first, so a screen reader is not read every tick; the end is
 * announced once, politely.
 */
function countDown(seconds: number): void {
  const untilMs = Date.now() + seconds * 1000;
  const text = document.querySelector<HTMLElement>("[data-stepup-retry]");
  text?.closest("[role=alert]")?.removeAttribute("role");
  const blocks = document.querySelectorAll<HTMLElement>("[data-stepup-wait], #stepup-passkey");
  const controls = [...blocks].flatMap((block) => [
    ...block.querySelectorAll<HTMLInputElement | HTMLButtonElement>("input:not([type=hidden]), button"),
  ]);
  for (const control of controls) control.disabled = true;
  const done = h("p", { class: "sr-only", role: "status" });
  document.querySelector("main")?.append(done);
  let shown = "";
  const tick = () => {
    const left = (untilMs - Date.now()) / 1000;
    if (left <= 0) {
      clearInterval(timer);
      for (const control of controls) control.disabled = false;
      if (text) text.textContent = "You can try again now.";
      done.textContent = "You can try again now.";
      return;
    }
    const next = `Try again in ${retryText(left)}.`;
    if (text && next !== shown) text.textContent = next;
    shown = next;
  };
  const timer = setInterval(tick, 250);
  tick();
}

/**
 * A sent code's resend wait: each `form[data-stepup-resend]` (seconds) keeps its button disabled
 * and its `[data-stepup-resend-text]` counting down until a new code may be asked. Not a live
 * region: nothing is read every tick. Without this script the button stays enabled (a 429).
 */
function resendCountDown(): void {
  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-stepup-resend]")) {
    const seconds = Number(form.dataset.stepupResend);
    const button = form.querySelector("button");
    const text = form.querySelector<HTMLElement>("[data-stepup-resend-text]");
    if (!button || !(seconds > 0)) continue;
    const untilMs = Date.now() + seconds * 1000;
    button.disabled = true;
    const tick = () => {
      const left = (untilMs - Date.now()) / 1000;
      const next =
        left > 0
          ? `You can ask for a new code in ${retryText(left)}.`
          : "Didn't get it? You can ask for a new code.";
      if (text && text.textContent !== next) text.textContent = next;
      if (left > 0) return;
      clearInterval(timer);
      button.disabled = false;
    };
    const timer = setInterval(tick, 250);
    tick();
  }
}

function enhanceChallenge(data: Record<string, unknown>, basePath: string): void {
  resendCountDown();
  const section = reveal("stepup-passkey");
  if (section) {
    const challengeId = String(data.challengeId ?? "");
    const factors = readFactors(data.factors);
    wire(section, async (status) => {
      // The section's own "Remember this device" box (absent when trusted devices are off).
      const remember = section.querySelector<HTMLInputElement>('input[name="rememberDevice"]');
      const result = await verifyWithPasskey(basePath, challengeId, factors, {
        rememberDevice: remember?.checked === true,
      });
      if (!result.ok) {
        status.textContent = errorMessage(result);
        return;
      }
      status.textContent = "Verified. Continuing…";
      continueAfter(data.after as After);
    });
  }
  if (typeof data.retryAfter === "number" && data.retryAfter > 0) countDown(data.retryAfter);
}

function enhanceConsole(data: Record<string, unknown>, basePath: string): void {
  const section = reveal("stepup-add-passkey");
  if (section) {
    wire(section, async (status) => {
      // Adding a second factor needs a fresh step-up: stepUpFetch shows the modal on the 401.
      const result = await registerPasskey(basePath, { fetchImpl: stepUpFetch });
      if (!result.ok) {
        status.textContent =
          result.body.error === "step_up_required" ? "Adding a passkey was cancelled." : errorMessage(result);
        return;
      }
      status.textContent = "Passkey added.";
      location.assign(sameOriginPath(data.consoleUrl));
    });
  }
  const codes = Array.isArray(data.recoveryCodes)
    ? data.recoveryCodes.filter((c): c is string => typeof c === "string")
    : [];
  if (codes.length > 0) enhanceCodes(codes, data.codesFile);
}

/** The text of a recovery-codes file: a title line, when, then one code per line. */
function codesText(codes: readonly string[], title: string): string {
  const date = new Date().toISOString().slice(0, 10);
  return `${title}\nCreated ${date}. Each code works once.\n\n${codes.join("\n")}\n`;
}

/** Copy and Download for new recovery codes (the list itself needs no script to read or select). */
function enhanceCodes(codes: readonly string[], file: unknown): void {
  const actions = document.getElementById("stepup-code-actions");
  const status = actions?.querySelector<HTMLElement>("[data-stepup-status]");
  if (!actions || !status) return;
  const f = (typeof file === "object" && file !== null ? file : {}) as Record<string, unknown>;
  const name = typeof f.name === "string" ? f.name : "recovery-codes.txt";
  const text = codesText(codes, typeof f.title === "string" ? f.title : "Recovery codes");
  actions.hidden = false;
  actions.querySelector("[data-stepup-copy]")?.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      status.textContent = "Copied. Paste them somewhere safe.";
    } catch {
      // No clipboard permission: select the list, so one keystroke copies it.
      const list = document.getElementById("recovery-codes");
      if (list) getSelection()?.selectAllChildren(list);
      status.textContent = "Select the codes and copy them (Ctrl+C or ⌘C).";
    }
  });
  actions.querySelector("[data-stepup-download]")?.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const link = h("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    status.textContent = `Downloaded ${name}.`;
  });
}

/** Wires the stepup pages' JavaScript-only controls; pages work without it (TOTP, recovery forms). */
export function enhancePage(): void {
  const data = readData();
  if (!data || typeof data.basePath !== "string") return;
  if (data.page === "challenge") enhanceChallenge(data, data.basePath);
  else if (data.page === "console") enhanceConsole(data, data.basePath);
}
