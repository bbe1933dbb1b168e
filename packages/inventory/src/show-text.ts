// What a terminal would act on: C0 and C1 controls, DEL, line/paragraph separators, bidi controls.
const UNSAFE = "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]";
const UNSAFE_RE = new RegExp(UNSAFE, "g");

/** Whether `text` holds a character that must never reach a terminal raw (see {@link showText}). */
export const hasControl = (text: string): boolean => CONTROL_RE.test(text);
const CONTROL_RE = new RegExp(UNSAFE);

/** Longest text shown before it is cut. @default 120 */
const MAX_SHOWN = 120;

/**
 * Quotes `text` for a warning or an error message: double quotes, control characters and the
 * like as `\u001b`-style escapes (so no raw NUL, CR or ESC reaches a terminal), and a long text
 * cut with its length said.
 * @example
 * showText("web\u00001"); // '"web\\u00001"'
 */
export function showText(text: string, max = MAX_SHOWN): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  // JSON.stringify escapes C0, quotes, backslashes and lone surrogates; the rest are ours.
  const quoted = JSON.stringify(cut).replace(
    UNSAFE_RE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return cut === text ? quoted : `${quoted}... (${text.length} characters)`;
}
