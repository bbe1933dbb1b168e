import { showText } from "./show-text.js";

/** A bad inventory line, list item or group definition. */
export interface InventoryProblem {
  /** Where it came from: a file name, `<stdin>`, or a flag such as `-w`. */
  source: string;
  /** 1-based line in `source`; 0 for a list given on the command line. */
  line: number;
  /** The text as read (unescaped: show it with {@link formatProblem}). */
  text: string;
  /** What is wrong. */
  message: string;
}

/**
 * `FILE:LINE: message: "text"` (or `SOURCE: message: "text"` without a line), with control
 * characters in the text escaped and a long text cut, so it is safe to print on a terminal.
 * @example
 * formatProblem({ source: "hosts.txt", line: 3, text: "web 1", message: "contains whitespace" });
 * // 'hosts.txt:3: contains whitespace: "web 1"'
 */
export function formatProblem(p: InventoryProblem): string {
  const where = p.line > 0 ? `${p.source}:${p.line}` : p.source;
  return `${where}: ${p.message}: ${showText(p.text)}`;
}
