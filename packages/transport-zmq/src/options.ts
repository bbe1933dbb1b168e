import {
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkString,
  type Logger,
  MAX_TIMER_MS,
  optionError,
} from "@uptime/protocol/check";
import { silentLogger } from "./rate-limited-warn.js";

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

/**
 * An options object: refuses anything else (`name`) and keys not in `known` (with the nearest known one);
 * `prefix` qualifies nested names (`curve.`).
 */
export function optionsObject(
  value: unknown,
  known: readonly string[],
  name = "options",
  prefix = "",
): Record<string, unknown> {
  if (value === undefined) throw optionError(name, "an object", value);
  const options = checkObject(name, value);
  checkKnownKeys(options, known, prefix);
  return options;
}

const LOG_METHODS = ["debug", "info", "warn", "error"] as const;

/** A logger (each method optional, a function when present), the silent one when undefined. */
export function loggerOption(value: unknown, name = "logger"): Logger {
  if (value === undefined) return silentLogger;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw optionError(name, "a logger object ({ debug?, info?, warn?, error? })", value);
  }
  for (const m of LOG_METHODS) {
    const f = (value as Record<string, unknown>)[m];
    if (f !== undefined && typeof f !== "function") throw optionError(`${name}.${m}`, "a function", f);
  }
  return value as Logger;
}

/** A list of strings (a trust list) or undefined. */
export function stringListOption(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw optionError(name, "an array of strings", value);
  value.forEach((v, i) => {
    if (typeof v !== "string") throw optionError(`${name}[${i}]`, "a string", v);
  });
  return value as string[];
}
