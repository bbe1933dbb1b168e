/**
 * Option checks and the logger shape shared by every uptime package (`@uptime/protocol/check`).
 * Imports nothing, so ssh-probe, transport-zmq and test-fleet can use it without loading the
 * protocol's schemas. Each check throws a `TypeError` in p-queue's style:
 * "Expected `port` to be an integer from 1 to 65535, got 70000 (number)".
 */

/** Where a library reports what happened; libraries never print. Every method is optional. */
export interface Logger {
  debug?(message: string, fields?: LogFields): void;
  info?(message: string, fields?: LogFields): void;
  warn?(message: string, fields?: LogFields): void;
  error?(message: string, fields?: LogFields): void;
}

/** Structured context of a log call (`{ target, code }`). */
export type LogFields = Record<string, unknown>;

/** Node fires a timer longer than this (2^31-1 ms, about 24.9 days) after 1 ms, so no timeout may exceed it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const MAX_SHOWN = 60;

/** A value as an error message shows it: `70000 (number)`, `"10" (string)`, `an array`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case "string": {
      const shown = JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}...` : value);
      return `${shown} (string)`;
    }
    case "number":
    case "boolean":
    case "bigint":
      return `${String(value)} (${typeof value})`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      return Array.isArray(value) ? "an array" : "an object";
  }
}

/** Stable `code` of the TypeErrors thrown here: a bad value, or a name no option has. */
export type OptionErrorCode = "INVALID_OPTION" | "UNKNOWN_OPTION";

/** A TypeError with a stable `code`, so callers branch on the code, never on the message. */
export type OptionError = TypeError & { code: OptionErrorCode };

function withCode(error: TypeError, code: OptionErrorCode): OptionError {
  return Object.assign(error, { code });
}

/** A TypeError `Expected \`name\` to be <expected>, got <value>` with code `INVALID_OPTION`. */
export function optionError(name: string, expected: string, value: unknown): OptionError {
  return withCode(
    new TypeError(`Expected \`${name}\` to be ${expected}, got ${describeValue(value)}`),
    "INVALID_OPTION",
  );
}

function range(min: number, max: number): string {
  return max >= Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
}

/** Bounds of {@link checkInteger}; `max` defaults to `Number.MAX_SAFE_INTEGER`. */
export interface IntegerRange {
  min: number;
  max?: number;
}

/**
 * `value` when it is an integer in [min, max], `fallback` when it is undefined, otherwise a TypeError naming `name`.
 * @example
 * checkInteger("port", 70000, 22, { min: 1, max: 65535 }); // TypeError: Expected `port` to be an integer from 1 to 65535, got 70000 (number)
 */
export function checkInteger(name: string, value: unknown, fallback: number, bounds: IntegerRange): number {
  if (value === undefined) return fallback;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isInteger(value) || value < bounds.min || value > max) {
    throw optionError(name, `an integer ${range(bounds.min, max)}`, value);
  }
  return value;
}

/**
 * A timeout or interval in whole milliseconds, at most {@link MAX_TIMER_MS}; `min` defaults to 1.
 * @example
 * checkTimeout("deadlineMs", 2 ** 31, 30000); // TypeError naming `deadlineMs` and the 2147483647 ms limit
 */
export function checkTimeout(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw optionError(name, `a whole number of milliseconds from ${min} to ${MAX_TIMER_MS}`, value);
  }
  return value;
}

/** A string of 1 to `maxLength` characters, `fallback` when undefined. */
export function checkString(name: string, value: unknown, fallback: string, maxLength = 4096): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw optionError(name, `a non-empty string of at most ${maxLength} characters`, value);
  }
  return value;
}

/** One of `choices`, `fallback` when undefined. */
export function checkChoice<T extends string>(
  name: string,
  value: unknown,
  fallback: T,
  choices: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    const list = choices.map((c) => JSON.stringify(c));
    const expected = list.length > 1 ? `${list.slice(0, -1).join(", ")} or ${list.at(-1)}` : String(list[0]);
    throw optionError(name, expected, value);
  }
  return value as T;
}

/** An options object (undefined counts as `{}`), or a TypeError naming `name`. */
export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw optionError(name, "an object", value);
  }
  return value as Record<string, unknown>;
}

/** Damerau-Levenshtein distance (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** The known name closest to `name`, when it is close enough to be a likely typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const dist = distance(name, k);
    if (dist < bestDistance) {
      best = k;
      bestDistance = dist;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Every option name of `T`, as a literal list for {@link checkKnownKeys}: a name of `T` missing from
 * the list fails to compile (it would otherwise be refused as unknown at run time), and so does a
 * name that `T` does not have.
 *
 * @example
 * const OPTION_NAMES = optionNames<ProbeOptions>()(["concurrency", "port", ...]);
 */
export function optionNames<T>() {
  return <const L extends readonly (keyof T)[]>(
    names: L &
      ([Exclude<keyof T, L[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, L[number]> }),
  ): L => names;
}

/**
 * Throws a TypeError (code `UNKNOWN_OPTION`) for the first key of `options` that is not in `known`, naming the
 * nearest known one.
 * `prefix` qualifies nested names (`pool.` gives "Unknown option `pool.maxConnection`").
 * @example
 * checkKnownKeys({ comand: "id" }, ["command", "signal"]); // TypeError: Unknown option `comand`; did you mean `command`?
 */
export function checkKnownKeys(options: object, known: readonly string[], prefix = ""): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    const hint = near ? `; did you mean \`${prefix}${near}\`?` : `; known options: ${known.join(", ")}`;
    throw withCode(new TypeError(`Unknown option \`${prefix}${key}\`${hint}`), "UNKNOWN_OPTION");
  }
}
