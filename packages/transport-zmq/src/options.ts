/** Returns `value` (or `fallback` when undefined) after checking it is an integer in [min, max]. */
export function intOption(
  value: unknown,
  fallback: number,
  name: string,
  min = 1,
  max = 2 ** 31 - 1,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a non-empty string option of at most `max` characters. */
export function stringOption(value: unknown, name: string, max = 1024): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new TypeError(
      `${name}: expected a non-empty string of at most ${max} characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
