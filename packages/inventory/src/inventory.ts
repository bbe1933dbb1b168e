import { LIMITS } from "@uptime/protocol";
import { type Groups, splitHostList } from "./groups.js";
import type { InventoryProblem } from "./problems.js";
import { DEFAULT_MAX_HOSTS, expandHosts } from "./range.js";
import { showText } from "./show-text.js";
import { formatTarget, parseTarget, type Target } from "./target.js";

/** Options of {@link parseInventory} and {@link InventoryBuilder}. */
export interface InventoryOptions {
  /** Groups that `@name` items resolve to (see `parseGroups`). @default none: `@name` is an error */
  groups?: Groups;
  /**
   * Most hosts one range or group may expand to, and the whole inventory may hold; an item
   * past it is refused (a problem), the rest is kept.
   * @default 1000000
   */
  maxHosts?: number;
}

/** One host of an inventory. */
export interface InventoryEntry {
  /** 1-based line of its source (0 for a list given on the command line). */
  line: number;
  target: Target;
  /** The host as written, after range and group expansion. */
  text: string;
  /** Where it came from: a file name, `<stdin>`, `-w` ... */
  source: string;
}

/** What an inventory holds. */
export interface Inventory {
  /** Unique targets, in the order first seen. */
  targets: InventoryEntry[];
  /** Bad lines and items; none of them cost another host. */
  errors: InventoryProblem[];
  /** Targets seen again (same user, host and port; host names compared case-insensitively), merged into the first. */
  duplicates: number;
  /** Targets removed by {@link InventoryBuilder.exclude}. */
  excluded: number;
}

/**
 * The key two targets are the same host by: user, host, port. Host names compare
 * case-insensitively; IPv6 addresses by their canonical form (RFC 5952), so `[2001:DB8::0:1]`
 * and `[2001:db8::1]` are one host.
 */
export function targetKey(t: Target): string {
  return `${t.user ?? ""}@${canonicalHost(t.host)}:${t.port ?? ""}`;
}

/** A host name lower-cased; an IPv6 address (with its zone, if any) in RFC 5952 form. */
function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  if (!lower.includes(":")) return lower;
  const zone = lower.indexOf("%");
  const address = zone < 0 ? lower : lower.slice(0, zone);
  try {
    // WHATWG URL parsing serialises IPv6 the RFC 5952 way (zeros compressed, lower case).
    const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    return zone < 0 ? canonical : `${canonical}${lower.slice(zone)}`;
  } catch {
    return lower;
  }
}

/**
 * Builds one host list from files, command-line lists, groups and exclusions, the way pdsh
 * does with `-w` and `-x`: ranges and `@group`s expanded, each target validated against the
 * protocol's limits, duplicates merged, every bad item reported with where it was.
 * @example
 * const inv = new InventoryBuilder({ groups })
 *   .addText(readFileSync("hosts.txt", "utf8"), "hosts.txt")
 *   .addList("web[01-04]", "-w")
 *   .exclude("web03", "-x")
 *   .build();
 */
export class InventoryBuilder {
  private readonly maxHosts: number;
  private readonly entries: InventoryEntry[] = [];
  private readonly keys = new Set<string>();
  private readonly errors: InventoryProblem[] = [];
  private readonly exclusions: Target[] = [];
  private only: Set<string> | undefined;
  private duplicates = 0;

  constructor(private readonly options: InventoryOptions = {}) {
    const max = options.maxHosts ?? DEFAULT_MAX_HOSTS;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new TypeError(`Expected \`maxHosts\` to be a positive integer, got ${String(max)}`);
    }
    this.maxHosts = max;
  }

  /**
   * Adds an inventory text: one item list per line (`host`, `user@host:port`, `web[01-12]`,
   * `@group`, several separated by commas), blank lines and `#` comments skipped; `\n`,
   * `\r\n` and `\r` line ends.
   */
  addText(text: string, source: string): this {
    const lines = text.split(/\r\n|\r|\n/);
    for (let i = 0; i < lines.length; i++) {
      const original = lines[i]!;
      const body = original.replace(/(^|\s)#.*$/, "").trim();
      if (body === "") continue;
      for (const item of splitHostList(body)) this.addItem(item, source, i + 1, original);
    }
    return this;
  }

  /** Adds a comma-separated list (pdsh's `-w`): `web[1-3],db1,@racks`. */
  addList(list: string, source: string): this {
    for (const item of splitHostList(list)) this.addItem(item, source, 0, item);
    return this;
  }

  /** Adds parsed targets as they are (no range or group expansion), e.g. from a results file. */
  addTargets(targets: Iterable<Target>, source: string): this {
    for (const target of targets) this.addHosts([formatTarget(target)], source, 0, formatTarget(target));
    return this;
  }

  /**
   * Removes targets matching `list` (pdsh's `-x`; ranges and groups allowed) from the result.
   * An exclusion without a user or port matches the host with any user and port.
   */
  exclude(list: string, source: string): this {
    for (const item of splitHostList(list)) {
      const hosts = this.expand(item, source, 0, item);
      for (const h of hosts ?? []) {
        try {
          this.exclusions.push(parseTarget(h));
        } catch (err) {
          this.errors.push({ source, line: 0, text: item, message: (err as Error).message });
          break;
        }
      }
    }
    return this;
  }

  /** Keeps only targets whose key is among `targets` (e.g. the failed hosts of an earlier run). */
  restrictTo(targets: Iterable<Target>): this {
    this.only ??= new Set();
    for (const t of targets) this.only.add(targetKey(t));
    return this;
  }

  /** The host list: unique targets in first-seen order, minus exclusions. */
  build(): Inventory {
    const byHost = new Set<string>();
    const exact = new Set<string>();
    for (const t of this.exclusions) {
      if (t.user === undefined && t.port === undefined) byHost.add(canonicalHost(t.host));
      else exact.add(targetKey(t));
    }
    const only = this.only;
    const wanted = only ? this.entries.filter((e) => only.has(targetKey(e.target))) : this.entries;
    const kept = wanted.filter((e) => {
      const t = e.target;
      const host = canonicalHost(t.host);
      if (byHost.has(host)) return false;
      if (exact.size === 0) return true;
      // An exclusion names user and/or port: `root@web1` matches root@web1 on any port.
      return !(
        exact.has(`${t.user ?? ""}@${host}:${t.port ?? ""}`) ||
        exact.has(`${t.user ?? ""}@${host}:`) ||
        exact.has(`@${host}:${t.port ?? ""}`)
      );
    });
    return {
      targets: kept,
      errors: this.errors.slice(),
      duplicates: this.duplicates,
      excluded: wanted.length - kept.length,
    };
  }

  private addItem(item: string, source: string, line: number, original: string): void {
    const hosts = this.expand(item, source, line, original);
    if (hosts) this.addHosts(hosts, source, line, original, item);
  }

  private addHosts(hosts: string[], source: string, line: number, original: string, item = original): void {
    if (this.keys.size + hosts.length > this.maxHosts) {
      const left = this.maxHosts - this.keys.size;
      this.problem(
        source,
        line,
        original,
        `${showText(item, 40)} adds ${hosts.length.toLocaleString("en-US")} hosts to ${this.keys.size.toLocaleString("en-US")}, more than the limit of ${this.maxHosts.toLocaleString("en-US")} (room for ${left.toLocaleString("en-US")})`,
      );
      return;
    }
    let bad = 0;
    let firstBad = "";
    for (const text of hosts) {
      let target: Target;
      try {
        target = parseTarget(text);
        const formatted = formatTarget(target);
        if (formatted.length > LIMITS.target) {
          throw new TypeError(
            `target is ${formatted.length.toLocaleString("en-US")} characters long, more than the protocol's limit of ${LIMITS.target}`,
          );
        }
      } catch (err) {
        if (bad++ === 0) firstBad = (err as Error).message;
        continue;
      }
      const key = targetKey(target);
      if (this.keys.has(key)) {
        this.duplicates++;
        continue;
      }
      this.keys.add(key);
      this.entries.push({ line, target, text, source });
    }
    if (bad > 0) {
      const message =
        hosts.length === 1
          ? firstBad
          : `${bad} of the ${hosts.length} hosts it expands to are invalid, the first: ${firstBad}`;
      this.problem(source, line, original, message);
    }
  }

  /** Expands ranges and `@group`s; a problem (and undefined) when that fails. */
  private expand(item: string, source: string, line: number, original: string): string[] | undefined {
    try {
      return this.expandItem(item, []);
    } catch (err) {
      this.problem(source, line, original, (err as Error).message);
      return undefined;
    }
  }

  private expandItem(item: string, via: string[]): string[] {
    if (!item.startsWith("@")) return expandHosts(item, this.maxHosts);
    const name = item.slice(1);
    const groups = this.options.groups;
    if (!groups) throw new TypeError(`${item}: no groups file is given`);
    const members = groups.members.get(name);
    if (!members)
      throw new TypeError(`unknown group ${item}${via.length ? ` (in @${via.join(" -> @")})` : ""}`);
    if (via.includes(name))
      throw new TypeError(`group @${name} contains itself (@${[...via, name].join(" -> @")})`);
    const out: string[] = [];
    for (const m of members) {
      for (const h of this.expandItem(m, [...via, name])) {
        out.push(h);
        if (out.length > this.maxHosts) {
          throw new TypeError(
            `group ${item} has more than the limit of ${this.maxHosts.toLocaleString("en-US")} hosts`,
          );
        }
      }
    }
    return out;
  }

  private problem(source: string, line: number, text: string, message: string): void {
    this.errors.push({ source, line, text, message });
  }
}

/**
 * Parses an inventory text: one target (or range, `@group`, comma list) per line, blank
 * lines and `#` comments skipped, `\n`, `\r\n` and `\r` line ends. A bad line is reported with
 * its 1-based line number and costs no other host; duplicates are merged.
 * @example
 * parseInventory("web[1-2]\n# db\nroot@db1:2222\nweb1\n"); // 3 targets, 1 duplicate, no errors
 */
export function parseInventory(
  text: string,
  options: InventoryOptions & { source?: string } = {},
): Inventory {
  return new InventoryBuilder(options).addText(text, options.source ?? "inventory").build();
}
