// ssh_config's syntax and matching rules as OpenSSH's readconf.c applies them: the directives this
// library honours or refuses, Host/Match pattern lists, Include globs, `%` tokens and `~`. The
// SshConfig class (ssh-config.ts) loads files into blocks and resolves names with these.
import { existsSync, readdirSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import type { HostKeyPolicy } from "./types.js";

export interface Directive {
  key: string;
  args: string[];
  /** The value as written (for ProxyCommand). */
  text: string;
}

export type Criterion = { name: string; negate: boolean; patterns: string[] };

/** What Host and Match lines are matched against in one pass. */
export interface MatchContext {
  /** Host patterns: the name as given (first pass), the hostname (final pass). */
  hostArg: string;
  /** Match originalhost. */
  original: string;
  /** Match host: HostName as obtained so far, `%h` expanded, lowercased. */
  hostname: () => string;
  user: () => string;
  /** The second pass, in which `Match final` and `Match canonical` match. */
  final: boolean;
}

export interface Block {
  /** undefined: applies to every host (before the first Host/Match, or an Include's leading lines there). */
  host: Matcher | undefined;
  match: Criterion[] | undefined;
  /** Condition of the block that contains the Include this block came from. */
  parent: Block | undefined;
  directives: Directive[];
}

export interface Matcher {
  plain: Set<string>;
  globs: RegExp[];
  negated: RegExp[];
}

export const HONOURED = new Set([
  "hostname",
  "user",
  "port",
  "identityfile",
  "identitiesonly",
  "identityagent",
  "proxyjump",
  "proxycommand",
  "connecttimeout",
  "stricthostkeychecking",
  "userknownhostsfile",
  "globalknownhostsfile",
  "hostkeyalias",
]);

/**
 * Directives that change how a connection is made and that this library does not implement: each is warned
 * about once, by the name ssh_config(5) gives it. Keyed by the lower-cased keyword, as directives are read.
 */
export const UNSUPPORTED = new Map(
  [
    "AddressFamily",
    "BindAddress",
    "BindInterface",
    "CanonicalizeHostname",
    "CertificateFile",
    "Ciphers",
    "HostKeyAlgorithms",
    "HostbasedAuthentication",
    "KexAlgorithms",
    "KnownHostsCommand",
    "MACs",
    "PKCS11Provider",
    "ProxyUseFdpass",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "SecurityKeyProvider",
  ].map((name) => [name.toLowerCase(), name]),
);

/** StrictHostKeyChecking values; `ask` cannot ask anyone here, so it refuses unknown hosts. */
export const HOST_KEY_POLICIES: Record<string, HostKeyPolicy> = {
  yes: "strict",
  ask: "strict",
  "accept-new": "accept-new",
  no: "off",
  off: "off",
};

export const MAX_INCLUDE_DEPTH = 16;
export const MAX_CACHE = 200_000;

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

export function compileHost(patterns: string[]): Matcher {
  const m: Matcher = { plain: new Set(), globs: [], negated: [] };
  // OpenSSH lowercases the name, not the patterns: `Host UPPER` matches nothing.
  for (const p of patterns) {
    if (p.startsWith("!")) m.negated.push(globToRegExp(p.slice(1)));
    else if (/[*?]/.test(p)) m.globs.push(globToRegExp(p));
    else m.plain.add(p);
  }
  return m;
}

export function hostMatches(m: Matcher, name: string): boolean {
  for (const re of m.negated) if (re.test(name)) return false;
  if (m.plain.has(name)) return true;
  for (const re of m.globs) if (re.test(name)) return true;
  return false;
}

/** A pattern list (comma separated, `!` negation) as Match uses it. */
export function listMatches(list: string[], value: string): boolean {
  return hostMatches(compileHost(list), value);
}

export function valuesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v: { val: string }) => v.val);
  return typeof value === "string" ? [value] : [];
}

export function textOf(value: unknown): string {
  if (!Array.isArray(value)) return typeof value === "string" ? value : "";
  return value
    .map(
      (v: { val: string; separator: string; quoted?: boolean }) =>
        `${v.separator}${v.quoted ? `"${v.val}"` : v.val}`,
    )
    .join("")
    .trim();
}

/** `Include` paths: absolute, `~/`, or relative to ~/.ssh (user files) or /etc/ssh (system files); globs sorted. */
export function expandInclude(pattern: string, system: boolean): string[] {
  let path = pattern.startsWith("~/") ? join(homedir(), pattern.slice(2)) : pattern;
  if (!isAbsolute(path)) path = join(system ? "/etc/ssh" : join(homedir(), ".ssh"), path);
  const parts = path.split("/").filter((p) => p !== "");
  let found = ["/"];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const n of names) if (!n.startsWith(".") && re.test(n)) next.push(join(dir, n));
    }
    found = next;
  }
  return found.filter((f) => existsSync(f));
}

/**
 * The ssh-config package (5.3) reads `!canonical`, `!final` and `!all` in a Match line as criteria that take an
 * argument and refuses the line. A mark after each gives it that argument; parseMatch skips the mark.
 */
export const NEGATED_FLAG_MARK = "\u0001";
export function markNegatedFlags(text: string): string {
  if (!/!(canonical|final|all)\b/i.test(text)) return text;
  return text.replace(/^([ \t]*match[ \t].*)$/gim, (line) =>
    line.replace(/(^|[\s])(!(?:canonical|final|all))(?=\s|$)/gi, `$1$2 ${NEGATED_FLAG_MARK}`),
  );
}

/** Longest ProxyJump chain followed before it is taken for a loop. */
export const MAX_JUMP_HOPS = 32;

export function mergeSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

let cachedLocalUser: string | undefined;
export function localUser(): string {
  if (cachedLocalUser === undefined) {
    try {
      cachedLocalUser = userInfo().username;
    } catch {
      cachedLocalUser = process.env.USER ?? "";
    }
  }
  return cachedLocalUser;
}

/** Expands `%h %p %r %n %u %d %%` (those given in `tokens` plus the local ones). */
export function expandTokens(text: string, tokens: Record<string, string>): string {
  if (!text.includes("%")) return text;
  return text.replace(/%(.)/g, (all, t: string) => {
    if (t === "%") return "%";
    if (t === "u") return localUser();
    if (t === "d") return homedir();
    return tokens[t] ?? all;
  });
}

export function expandPath(p: string): string {
  if (p === "~") return homedir();
  return p.startsWith("~/") ? join(homedir(), p.slice(2)) : p;
}
