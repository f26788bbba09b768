/**
 * "45 seconds", "2 minutes", "3 hours": how long until verification can be tried again, in the
 * words the challenge page, its countdown script and the modal all use. Rounded up, so the text
 * never promises a retry before the server allows it. No DOM: the server renders it too.
 *
 * @example
 * retryText(90); // "2 minutes"
 */
export function retryText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (s < 60) return unit(s, "second");
  if (s < 3600) return unit(Math.ceil(s / 60), "minute");
  return unit(Math.ceil(s / 3600), "hour");
}
