import { hasUnsafeText, quoteText } from "@uptime/protocol";

/** Whether `text` holds a character that must never reach a terminal raw (a backslash is not one). */
export const hasControl = (text: string): boolean => hasUnsafeText(text.replace(/\\/g, ""));

/** Longest text shown before it is cut. @default 120 */
const MAX_SHOWN = 120;

/**
 * Quotes `text` for a warning or an error message with the protocol's {@link quoteText} (the one
 * escaping every package uses: controls as `\x1b`-style escapes, so no raw NUL, CR or ESC reaches a
 * terminal), and cuts a long text, saying its length.
 * @example
 * showText("web\u00001"); // '"web\\x001"'
 */
export function showText(text: string, max = MAX_SHOWN): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const quoted = quoteText(cut);
  return cut === text ? quoted : `${quoted}... (${text.length} characters)`;
}
