/** Validates a whole number of seconds in a range, naming the option. */
export function secondsOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new TypeError(`${name} must be a whole number of seconds from ${min} to ${max}`);
  return v;
}
