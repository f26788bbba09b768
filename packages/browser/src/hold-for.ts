import { retryText } from "./retry-text.js";

export type Control = HTMLButtonElement | HTMLInputElement;

/**
 * A 429's wait: `held` controls stay disabled for `seconds` while `button` counts down ("Try again
 * in 45 seconds"; a button label is not a live region, so nothing is read every tick), then they
 * come back and `status` announces it once. Focus on a held control moves to `park` first (a
 * disabled control drops focus to the inert page, where Escape and Tab would do nothing) and
 * returns to the code input at the end. Returns a function that stops it early.
 */
export function holdFor(
  seconds: number,
  held: Set<Control>,
  button: HTMLButtonElement | undefined,
  status: HTMLElement,
  park?: HTMLElement,
) {
  const untilMs = Date.now() + seconds * 1000;
  const label = button?.textContent ?? "";
  const input = [...held].find((c): c is HTMLInputElement => c instanceof HTMLInputElement);
  // Submitting disabled the busy button already, so focus may have fallen to the page itself.
  const active = document.activeElement;
  const hadFocus = active === null || active === document.body || held.has(active as Control);
  if (hadFocus) park?.focus();
  for (const control of held) control.disabled = true;
  const tick = () => {
    const left = (untilMs - Date.now()) / 1000;
    if (left > 0) {
      const text = `Try again in ${retryText(left)}`;
      if (button && button.textContent !== text) button.textContent = text;
      return;
    }
    stop();
    if (hadFocus && (document.activeElement === park || document.activeElement === document.body))
      input?.focus();
    status.textContent = "You can try again now.";
  };
  const timer = setInterval(tick, 250);
  const stop = () => {
    clearInterval(timer);
    if (button) button.textContent = label;
    for (const control of held) control.disabled = false;
    held.clear();
  };
  tick();
  return stop;
}
