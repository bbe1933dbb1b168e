// ssh_config resolution as OpenSSH's readconf.c does it (the rules it applies are in
// ssh-config-rules.ts). Over 350 lines on purpose: loading (Include), Host/Match evaluation, the
// first-obtained-wins pass, the final pass and jump chains share one block list, one per-name
// cache and one warn-once set, and their order is what the `ssh -G` oracle tests pin down; split
// across files, that order would have no single place to be read.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import SSHConfigImport from "ssh-config";
import {
  type Block,
  type Criterion,
  compileHost,
  expandInclude,
  expandPath,
  expandTokens,
  HONOURED,
  HOST_KEY_POLICIES,
  hostMatches,
  listMatches,
  localUser,
  MAX_CACHE,
  MAX_INCLUDE_DEPTH,
  MAX_JUMP_HOPS,
  type MatchContext,
  markNegatedFlags,
  mergeSorted,
  NEGATED_FLAG_MARK,
  textOf,
  UNSUPPORTED,
  valuesOf,
} from "./ssh-config-rules.js";
import { parseTarget } from "./target.js";
import type { HostKeyPolicy, ProbeLogger, Target } from "./types.js";

// ssh-config's CJS build exports the class as `default` of the module object; unwrap for both builds.
const SSHConfig =
  (SSHConfigImport as unknown as { default?: typeof SSHConfigImport }).default ?? SSHConfigImport;

/** What ssh_config says for one target, with tokens and `~` expanded (see {@link resolveTarget}). */
export interface ResolvedTarget {
  /** The name as given (the inventory's name, possibly an alias). */
  host: string;
  /** Where to connect: `HostName` (with `%h` expanded), else `host`. */
  hostname: string;
  port: number;
  user: string;
  /** `IdentityFile` entries in order; empty when ssh_config names none (the probe's identityFiles apply). */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** `IdentityAgent`: a socket path, `false` for `none`, undefined when not set (the probe's agent applies). */
  identityAgent: string | false | undefined;
  /** `ProxyJump` hops in order (`[user@]host[:port]` each), undefined for none. */
  jump: string[] | undefined;
  /** `ProxyCommand` with tokens expanded, undefined for none. */
  proxyCommand: string | undefined;
  connectTimeoutMs: number | undefined;
  hostKeyPolicy: HostKeyPolicy | undefined;
  /**
   * `UserKnownHostsFile`, tokens and `~` expanded: read in order, accept-new appends to the first; empty for
   * `none`. Not set: the probe's `knownHosts`, else OpenSSH's default `~/.ssh/known_hosts ~/.ssh/known_hosts2`.
   */
  userKnownHostsFiles: string[];
  /**
   * `GlobalKnownHostsFile` (`~` expanded, no tokens, as OpenSSH): read after the user files, never written;
   * empty for `none`. Not set: the probe's `globalKnownHosts`, else `/etc/ssh/ssh_known_hosts
   * /etc/ssh/ssh_known_hosts2`.
   */
  globalKnownHostsFiles: string[];
  /** `HostKeyAlias`: the name looked up in known_hosts instead of `hostname`. */
  hostKeyAlias: string | undefined;
}

/** Fallbacks below ssh_config: the library's options. */
export interface ResolveDefaults {
  username: string;
  port: number;
  /** @default {@link defaultUserKnownHostsFiles} */
  userKnownHostsFiles?: string[];
  /** @default {@link DEFAULT_GLOBAL_KNOWN_HOSTS_FILES} */
  globalKnownHostsFiles?: string[];
}

/** OpenSSH's UserKnownHostsFile when ssh_config names none: `~/.ssh/known_hosts ~/.ssh/known_hosts2`. */
export function defaultUserKnownHostsFiles(home = homedir()): string[] {
  return [join(home, ".ssh", "known_hosts"), join(home, ".ssh", "known_hosts2")];
}

/** OpenSSH's GlobalKnownHostsFile when ssh_config names none. */
export const DEFAULT_GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = [
  "/etc/ssh/ssh_known_hosts",
  "/etc/ssh/ssh_known_hosts2",
];

/**
 * Parsed ssh_config files (Include expanded) and a per-name cache of resolutions. Build with
 * {@link loadSshConfig}.
 */
export class SshConfig {
  private readonly blocks: Block[] = [];
  /** Host blocks whose patterns are all plain names, by name: most fleets' configs are mostly these. */
  private readonly byName = new Map<string, number[]>();
  /** Blocks every name has to test (globs, negations, Match, unconditional). */
  private readonly scanned: number[] = [];
  private readonly cache = new Map<string, ResolvedTarget>();
  private readonly warned = new Set<string>();
  /** A `Match final` was seen: every resolution makes OpenSSH's second ("final") pass. */
  private wantFinalPass = false;

  constructor(
    readonly files: string[],
    private readonly logger?: ProbeLogger,
  ) {
    for (const file of files) this.load(file, file.startsWith("/etc/"), undefined, 0);
    this.blocks.forEach((b, i) => {
      const m = b.host;
      const plainOnly =
        m && !b.parent && !b.match && m.globs.length === 0 && m.negated.length === 0 && m.plain.size > 0;
      if (!plainOnly) {
        this.scanned.push(i);
        return;
      }
      for (const name of m.plain) {
        const list = this.byName.get(name);
        if (list) list.push(i);
        else this.byName.set(name, [i]);
      }
    });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger?.warn?.(message);
  }

  private load(file: string, system: boolean, parent: Block | undefined, depth: number): void {
    if (depth > MAX_INCLUDE_DEPTH) {
      this.warnOnce(
        `depth:${file}`,
        `ssh_config: Include nested deeper than ${MAX_INCLUDE_DEPTH} at ${file}`,
      );
      return;
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      this.warnOnce(`read:${file}`, `ssh_config: cannot read ${file}: ${(err as Error).message}`);
      return;
    }
    let lines: ReturnType<typeof SSHConfig.parse>;
    try {
      lines = SSHConfig.parse(markNegatedFlags(text));
    } catch (err) {
      this.warnOnce(`parse:${file}`, `ssh_config: cannot parse ${file}: ${(err as Error).message}`);
      return;
    }
    let current: Block = { host: undefined, match: undefined, parent, directives: [] };
    this.blocks.push(current);
    const addDirectives = (block: Block, items: Iterable<unknown>) => {
      let target = block;
      for (const item of items as Iterable<{ type: number; param?: string; value?: unknown }>) {
        if (item.type !== 1 || !item.param) continue;
        const key = item.param.toLowerCase();
        if (key === "include") {
          for (const pattern of valuesOf(item.value)) {
            for (const path of expandInclude(pattern, system)) {
              this.load(path, system, target.host || target.match ? target : target.parent, depth + 1);
            }
          }
          // What follows the Include still belongs to the enclosing block, after the included lines.
          target = { host: block.host, match: block.match, parent: block.parent, directives: [] };
          this.blocks.push(target);
          continue;
        }
        target.directives.push({ key, args: valuesOf(item.value), text: textOf(item.value) });
      }
    };
    for (const line of lines as unknown as {
      type: number;
      param?: string;
      value?: unknown;
      config?: unknown[];
    }[]) {
      if (line.type !== 1 || !line.param) continue;
      const key = line.param.toLowerCase();
      if (key === "host") {
        current = { host: compileHost(valuesOf(line.value)), match: undefined, parent, directives: [] };
        this.blocks.push(current);
        addDirectives(current, line.config ?? []);
      } else if (key === "match") {
        current = {
          host: undefined,
          match: this.parseMatch(valuesOf(line.value), file),
          parent,
          directives: [],
        };
        this.blocks.push(current);
        addDirectives(current, line.config ?? []);
      } else {
        addDirectives(current, [line]);
      }
    }
  }

  private parseMatch(words: string[], file: string): Criterion[] {
    const criteria: Criterion[] = [];
    for (let i = 0; i < words.length; i++) {
      if (words[i] === NEGATED_FLAG_MARK) continue;
      let name = words[i]!.toLowerCase();
      const negate = name.startsWith("!");
      if (negate) name = name.slice(1);
      if (name === "all" || name === "canonical" || name === "final") {
        criteria.push({ name, negate, patterns: [] });
        // As OpenSSH: any `Match final` (not negated) anywhere asks for the second pass.
        if (name === "final" && !negate) this.wantFinalPass = true;
        continue;
      }
      const arg = words[++i] ?? "";
      if (name === "exec") {
        this.warnOnce(
          "match:exec",
          `ssh_config: "Match exec" is refused (no commands are run to resolve a target); its block never applies (${file})`,
        );
      }
      // As OpenSSH's match_hostname: host and originalhost compare lowercased names with lowercased patterns.
      const lowered = name === "host" || name === "originalhost" ? arg.toLowerCase() : arg;
      criteria.push({ name, negate, patterns: lowered.split(",") });
    }
    return criteria;
  }

  private applies(block: Block, ctx: MatchContext): boolean {
    if (block.parent && !this.applies(block.parent, ctx)) return false;
    if (block.host) return hostMatches(block.host, ctx.hostArg);
    if (!block.match) return true;
    for (const c of block.match) {
      let hit: boolean;
      switch (c.name) {
        case "all":
          hit = true;
          break;
        case "host":
          hit = listMatches(c.patterns, ctx.hostname());
          break;
        case "originalhost":
          hit = listMatches(c.patterns, ctx.original.toLowerCase());
          break;
        case "user":
          hit = listMatches(c.patterns, ctx.user());
          break;
        case "localuser":
          hit = listMatches(c.patterns, localUser());
          break;
        case "canonical":
        case "final":
          hit = ctx.final;
          break;
        default:
          // exec and unknown criteria never match (warned about once).
          return false;
      }
      if (hit === c.negate) return false;
    }
    return true;
  }

  /**
   * What `ssh -G` would use for `name` (already split from any `user@`/`:port`), as {@link ResolvedTarget}.
   * Cached per (name, user, port).
   */
  resolve(name: string, given: { user?: string; port?: number }, defaults: ResolveDefaults): ResolvedTarget {
    const cacheKey =
      `${given.user ?? ""}@${name}:${given.port ?? ""}/${defaults.username}:${defaults.port}` +
      (defaults.userKnownHostsFiles ? `/${defaults.userKnownHostsFiles.join("\0")}` : "") +
      (defaults.globalKnownHostsFiles ? `//${defaults.globalKnownHostsFiles.join("\0")}` : "");
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const resolved = this.compute(name, given, defaults);
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(cacheKey, resolved);
    return resolved;
  }

  /**
   * The hops a ProxyJump (or `ssh -J`) list goes through, first hop first, as OpenSSH builds them: ssh reaches the
   * first hop with that hop's own ssh_config, so the first hop's own ProxyJump (and, in turn, its first hop's)
   * comes before it; later hops are reached through the chain, and their own ProxyJump does not apply.
   *
   * @throws TypeError for a loop (a hop reached through itself) or a hop that is not `[user@]host[:port]`.
   */
  jumpChain(jump: readonly string[], defaults: ResolveDefaults): string[] {
    let chain = [...jump];
    const seen = new Set<string>();
    const path: string[] = [];
    for (;;) {
      const first = chain[0];
      if (first === undefined) return chain;
      const t = parseTarget(first);
      const r = this.resolve(
        t.host,
        {
          ...(t.user !== undefined ? { user: t.user } : {}),
          ...(t.port !== undefined ? { port: t.port } : {}),
        },
        defaults,
      );
      const key = `${r.user}@${r.hostname}:${r.port}`;
      path.push(first);
      if (seen.has(key) || chain.length > MAX_JUMP_HOPS) {
        throw new TypeError(
          `ssh_config: ProxyJump loop: ${path.map((h) => `"${h}"`).join(" is reached through ")}` +
            (seen.has(key) ? "" : ` (more than ${MAX_JUMP_HOPS} hops)`),
        );
      }
      seen.add(key);
      if (!r.jump) return chain;
      chain = [...r.jump, ...chain];
    }
  }

  private compute(
    name: string,
    given: { user?: string; port?: number },
    defaults: ResolveDefaults,
  ): ResolvedTarget {
    // As ssh: Host and Match originalhost see the name as given; the hostname (and Match host) is lowercased.
    const original = name;
    const lower = name.toLowerCase();
    const first = new Map<string, string[]>();
    const texts = new Map<string, string>();
    const identityFiles: string[] = [];
    // As OpenSSH's add_identity_file: the same IdentityFile (as written) twice is kept once.
    const identitySeen = new Set<string>();
    if (given.user !== undefined) first.set("user", [given.user]);
    if (given.port !== undefined) first.set("port", [String(given.port)]);
    let canonicalize: string | undefined;
    const hostnameNow = () => {
      const h = first.get("hostname")?.[0];
      return (h === undefined ? lower : expandTokens(h, { h: lower })).toLowerCase();
    };
    const pass = (hostArg: string, final: boolean) => {
      const ctx: MatchContext = {
        hostArg,
        original,
        hostname: hostnameNow,
        user: () => first.get("user")?.[0] ?? defaults.username,
        final,
      };
      const plain = this.byName.get(hostArg);
      const order = plain ? mergeSorted(plain, this.scanned) : this.scanned;
      for (const i of order) {
        const block = this.blocks[i]!;
        if (!this.applies(block, ctx)) continue;
        for (const d of block.directives) {
          if (d.key === "identityfile") {
            for (const f of d.args) {
              if (identitySeen.has(f)) continue;
              identitySeen.add(f);
              identityFiles.push(f);
            }
          } else if (HONOURED.has(d.key)) {
            // ProxyJump and ProxyCommand exclude each other: whichever comes first wins.
            const slot = d.key === "proxycommand" ? "proxyjump" : d.key;
            if (!first.has(slot)) {
              first.set(slot, d.key === "proxycommand" ? ["\0cmd"] : d.args);
              if (d.key === "proxycommand") texts.set("proxycommand", d.text);
            }
          } else if (UNSUPPORTED.has(d.key)) {
            if (d.key === "canonicalizehostname") canonicalize ??= d.args[0]?.toLowerCase();
            this.warnOnce(
              `directive:${d.key}`,
              d.key === "canonicalizehostname"
                ? `ssh_config: CanonicalizeHostname is not supported by @uptime/ssh-probe: names are not canonicalized (first seen for ${name}); Match canonical/final blocks still apply in a second pass, as in OpenSSH`
                : `ssh_config: ${UNSUPPORTED.get(d.key)} is not supported by @uptime/ssh-probe and is ignored (first seen for ${name})`,
            );
          }
        }
      }
    };
    pass(original, false);
    // OpenSSH reads the files a second time (the "final" pass) when a Match line asks for it with `final`, or
    // when CanonicalizeHostname is on; then Host patterns see the hostname, HostName is fixed, and only options
    // not set yet are added. (Canonicalization itself, a DNS search, is not done here.)
    if (this.wantFinalPass || (canonicalize !== undefined && canonicalize !== "no")) {
      const hostname = hostnameNow();
      first.set("hostname", [hostname]);
      pass(hostname, true);
    }
    const get = (k: string) => first.get(k)?.[0];
    const hostnameRaw = get("hostname");
    const hostname = (
      hostnameRaw === undefined ? lower : expandTokens(hostnameRaw, { h: lower })
    ).toLowerCase();
    const user = get("user") ?? defaults.username;
    const portText = get("port");
    const port = portText === undefined ? defaults.port : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError(`ssh_config: bad Port "${portText}" for ${name}`);
    }
    const tokens = { h: hostname, p: String(port), r: user, n: original };
    const path = (p: string) => expandPath(expandTokens(p, tokens));
    const agent = get("identityagent");
    const jumpArgs = first.get("proxyjump");
    const isCommand = jumpArgs?.[0] === "\0cmd";
    const commandText = isCommand ? texts.get("proxycommand") : undefined;
    const timeout = get("connecttimeout");
    const strict = get("stricthostkeychecking")?.toLowerCase();
    const userKnown = first.get("userknownhostsfile");
    const globalKnown = first.get("globalknownhostsfile");
    return {
      host: name,
      hostname,
      port,
      user,
      identityFiles: identityFiles.filter((f) => f.toLowerCase() !== "none").map(path),
      identitiesOnly: get("identitiesonly")?.toLowerCase() === "yes",
      identityAgent:
        agent === undefined
          ? undefined
          : agent.toLowerCase() === "none"
            ? false
            : agent === "SSH_AUTH_SOCK"
              ? process.env.SSH_AUTH_SOCK || false
              : agent.startsWith("$")
                ? process.env[agent.slice(1)] || false
                : path(agent),
      jump:
        isCommand || jumpArgs === undefined || jumpArgs[0]?.toLowerCase() === "none"
          ? undefined
          : jumpArgs.join(",").split(","),
      proxyCommand:
        commandText === undefined || commandText.toLowerCase() === "none"
          ? undefined
          : expandTokens(commandText, tokens),
      connectTimeoutMs:
        timeout === undefined || timeout.toLowerCase() === "none" ? undefined : Number(timeout) * 1000,
      hostKeyPolicy: strict === undefined ? undefined : HOST_KEY_POLICIES[strict],
      userKnownHostsFiles:
        userKnown === undefined
          ? (defaults.userKnownHostsFiles ?? defaultUserKnownHostsFiles())
          : userKnown[0]?.toLowerCase() === "none"
            ? []
            : userKnown.map(path),
      // OpenSSH expands `~` in these but no %-tokens.
      globalKnownHostsFiles:
        globalKnown === undefined
          ? (defaults.globalKnownHostsFiles ?? [...DEFAULT_GLOBAL_KNOWN_HOSTS_FILES])
          : globalKnown[0]?.toLowerCase() === "none"
            ? []
            : globalKnown.map(expandPath),
      hostKeyAlias: get("hostkeyalias"),
    };
  }
}

/** The files OpenSSH reads by default that exist: ~/.ssh/config, then /etc/ssh/ssh_config. */
export function defaultSshConfigFiles(): string[] {
  return [join(homedir(), ".ssh", "config"), "/etc/ssh/ssh_config"].filter((f) => existsSync(f));
}

/**
 * Loads ssh_config files as OpenSSH reads them (`Include` expanded, relative to ~/.ssh or /etc/ssh).
 * @param files the files in order (first obtained value wins across them); default {@link defaultSshConfigFiles}
 */
export function loadSshConfig(files: string[] = defaultSshConfigFiles(), logger?: ProbeLogger): SshConfig {
  return new SshConfig(files, logger);
}

/** Options of {@link resolveTarget}: the subset of {@link ProbeOptions} that resolution reads. */
export interface ResolveTargetOptions {
  /** As {@link ProbeOptions.sshConfig}. */
  sshConfig?: string | string[] | false;
  /** As {@link ProbeOptions.username}. */
  username?: string;
  /** As {@link ProbeOptions.port}. */
  port?: number;
  /** As {@link ProbeOptions.knownHosts}. */
  knownHosts?: string;
  /** As {@link ProbeOptions.globalKnownHosts}. */
  globalKnownHosts?: string[];
  logger?: ProbeLogger;
}

const loaded = new Map<string, SshConfig>();

/** The config for a `sshConfig` option value; files are read once per list and process. */
export function sshConfigFor(option: string | string[] | false | undefined, logger?: ProbeLogger): SshConfig {
  const files = option === false ? [] : option === undefined ? defaultSshConfigFiles() : [option].flat();
  const key = files.join("\0");
  let config = loaded.get(key);
  if (!config) {
    config = new SshConfig(files, logger);
    loaded.set(key, config);
  }
  return config;
}

/**
 * What a target resolves to through ssh_config, as `ssh -G` reports it: hostname, port, user, identity files,
 * jump chain, known_hosts files, host-key policy, connect timeout. Precedence: the target's own `user@` and
 * `:port`, then ssh_config (first obtained value wins), then `username`/`port`, then the defaults.
 *
 * @throws TypeError for a bad target string or a bad `Port` in ssh_config.
 * @example
 * import { resolveTarget } from "@uptime/ssh-probe";
 * resolveTarget("web1"); // { host: "web1", hostname: "10.1.2.3", port: 2222, user: "ops", jump: ["bastion"], ... }
 */
export function resolveTarget(target: string | Target, options: ResolveTargetOptions = {}): ResolvedTarget {
  const t = typeof target === "string" ? parseTarget(target) : target;
  return sshConfigFor(options.sshConfig, options.logger).resolve(
    t.host,
    { ...(t.user !== undefined ? { user: t.user } : {}), ...(t.port !== undefined ? { port: t.port } : {}) },
    {
      username: options.username ?? localUser(),
      port: options.port ?? 22,
      ...(options.knownHosts !== undefined ? { userKnownHostsFiles: [options.knownHosts] } : {}),
      ...(options.globalKnownHosts !== undefined ? { globalKnownHostsFiles: options.globalKnownHosts } : {}),
    },
  );
}
