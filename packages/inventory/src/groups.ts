import type { InventoryProblem } from "./problems.js";
import { showText } from "./show-text.js";

/** Group names as ClusterShell lists them: letters, digits, `_`, `-` and `.`. */
const GROUP_NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** `@name` groups: each name with its host expressions (ranges and other `@group`s allowed). */
export interface Groups {
  /** Host expressions of each group, in file order. */
  readonly members: ReadonlyMap<string, readonly string[]>;
  /** Where each group was defined (1-based line). */
  readonly lines: ReadonlyMap<string, number>;
}

/**
 * Parses a groups file in ClusterShell's simple format (`groups.d/local.cfg`): one group per
 * line, `name: hosts...`, hosts separated by commas or spaces, ranges and `@other` groups
 * allowed; blank lines and `#` comments skipped. A bad line is a problem with its line number;
 * the other groups are kept.
 * @example
 * parseGroups("web: web[01-12]\ndb: db1 db2\nall: @web,@db\n");
 */
export function parseGroups(
  text: string,
  source = "groups",
): { groups: Groups; problems: InventoryProblem[] } {
  const members = new Map<string, string[]>();
  const lines = new Map<string, number>();
  const problems: InventoryProblem[] = [];
  const all = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < all.length; i++) {
    const original = all[i]!;
    const body = original.replace(/(^|\s)#.*$/, "").trim();
    if (body === "") continue;
    const colon = body.indexOf(":");
    const name = colon < 0 ? "" : body.slice(0, colon).trim();
    const problem = (message: string) => problems.push({ source, line: i + 1, text: original, message });
    if (colon < 0) {
      problem('expected "name: hosts"');
      continue;
    }
    if (!GROUP_NAME_RE.test(name)) {
      problem(`bad group name ${showText(name)} (letters, digits, "_", "-" and ".")`);
      continue;
    }
    if (members.has(name)) {
      problem(`group ${name} is defined again (first on line ${lines.get(name)}); this line is ignored`);
      continue;
    }
    members.set(name, splitHostList(body.slice(colon + 1), /[\s,]/));
    lines.set(name, i + 1);
  }
  return { groups: { members, lines }, problems };
}

/**
 * Splits a host list on commas (and `separator`) outside brackets, dropping empty items:
 * `web[1-3,5],db1` is two items, as pdsh's `-w` reads it.
 */
export function splitHostList(list: string, separator: RegExp = /,/): string[] {
  if (!list.includes("[") && separator.source === ",") {
    // the common case, one pass without a per-character test
    const items: string[] = [];
    for (const part of list.split(",")) {
      const t = part.trim();
      if (t !== "") items.push(t);
    }
    return items;
  }
  const items: string[] = [];
  let depth = 0;
  let item = "";
  for (const c of list) {
    if (c === "[") depth++;
    else if (c === "]") depth = Math.max(0, depth - 1);
    if (depth === 0 && separator.test(c)) {
      if (item.trim() !== "") items.push(item.trim());
      item = "";
    } else item += c;
  }
  if (item.trim() !== "") items.push(item.trim());
  return items;
}
