import { checkInteger, checkString, MAX_TIMER_MS, optionError } from "@uptime/protocol/check";

/**
 * Returns `value` (or `fallback` when undefined) after checking it is an integer in [min, max]; a TypeError in the
 * shared style of `@uptime/protocol/check` otherwise.
 */
export function intOption(
  value: unknown,
  fallback: number,
  name: string,
  min = 1,
  max = MAX_TIMER_MS,
): number {
  return checkInteger(name, value, fallback, { min, max });
}

/** Checks a required non-empty string option of at most `max` characters. */
export function stringOption(value: unknown, name: string, max = 1024): string {
  if (value === undefined) throw optionError(name, `a non-empty string of at most ${max} characters`, value);
  return checkString(name, value, "", max);
}
