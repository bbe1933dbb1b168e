import type { Target } from "@uptime/inventory";
import type { Logger } from "@uptime/protocol/check";
import type { ProbeErrorCode } from "./errors.js";

/** One SSH destination (from @uptime/inventory): `port` falls back to {@link ProbeOptions.port}, `user` to {@link ProbeOptions.username}. */
export type { Target };

/** Parsed `uptime` output. */
export interface Uptime {
  /** The output line the numbers were taken from, trimmed. */
  raw: string;
  /** The duration part as the original tool printed it, e.g. `65 days, 17:07` (whitespace collapsed). */
  text: string;
  /** Time since boot in seconds (minute resolution for most formats). */
  seconds: number;
  /** Logged-in users, when the output has that field. */
  users?: number;
  /** 1, 5 and 15 minute load averages, when present. */
  load?: [number, number, number];
}

/**
 * Receives diagnostics; the library never prints on its own. The one logger shape of every uptime package
 * (`Logger` of `@uptime/protocol/check`): optional `debug`, `info`, `warn`, `error`, each `(message, fields?)`.
 */
export type ProbeLogger = Logger;

/** Pool settings (see {@link ProbeOptions.pool}). */
export interface PoolOptions {
  /**
   * Most idle connections kept across all targets; the least recently used one is closed beyond it.
   * @default 1000
   */
  maxConnections?: number;
  /**
   * An idle connection is closed after this long.
   * @default 60000
   */
  idleTimeoutMs?: number;
}

/** Host key policy, as OpenSSH's `StrictHostKeyChecking`: `yes`, `accept-new`, `no`. */
export type HostKeyPolicy = "strict" | "accept-new" | "off";

/** Options of {@link createProbe}. Every field is optional. */
export interface ProbeOptions {
  /**
   * Probes running at once.
   * @default 100
   */
  concurrency?: number;
  /**
   * Login user for targets that name none.
   * @default os.userInfo().username
   */
  username?: string;
  /**
   * Port for targets that name none.
   * @default 22
   */
  port?: number;
  /**
   * ssh-agent socket path, or `false` for no agent. As OpenSSH: the agent's keys of the configured identity files
   * first, then its other keys (not with IdentitiesOnly), then the identity files not in the agent.
   * @default process.env.SSH_AUTH_SOCK
   */
  agent?: string | false;
  /**
   * Private key files, read and parsed once when the probe is created.
   * @default the files among ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa that exist
   */
  identityFiles?: string[];
  /** Passphrase for encrypted identity files. */
  passphrase?: string;
  /**
   * OpenSSH known_hosts file (plain and hashed entries, `[host]:port`, `@revoked`) for targets whose ssh_config
   * names no `UserKnownHostsFile`; `accept-new` appends to it. The global files are read too.
   * @default OpenSSH's: ~/.ssh/known_hosts, then ~/.ssh/known_hosts2 (accept-new appends to the first)
   */
  knownHosts?: string;
  /**
   * Read-only known_hosts files checked after the user's, for targets whose ssh_config names no
   * `GlobalKnownHostsFile`; `[]` for none.
   * @default ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"] (those that exist)
   */
  globalKnownHosts?: string[];
  /**
   * `strict` refuses hosts that are not in known_hosts, `accept-new` appends unknown hosts and refuses changed
   * keys, `off` checks nothing.
   * @default "strict"
   */
  hostKeyPolicy?: HostKeyPolicy;
  /**
   * Time allowed for the TCP connection (CONNECT_TIMEOUT).
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Time allowed from TCP connect to authenticated session: banner, key exchange, auth (HANDSHAKE).
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Time allowed from opening the exec channel to its exit status (COMMAND_TIMEOUT).
   * @default 10000
   */
  commandTimeoutMs?: number;
  /**
   * Overall limit for one probe, all attempts included, counted from when it leaves the queue (DEADLINE).
   * @default 30000
   */
  deadlineMs?: number;
  /**
   * Extra attempts after a transient failure (CONNECT_TIMEOUT, UNREACHABLE, HANDSHAKE, CLOSED), within the deadline.
   * @default 0
   */
  retries?: number;
  /**
   * Extra attempts, within the deadline, when the server closes or resets the connection before its SSH banner
   * (how sshd drops connections over `MaxStartups`); not counted against `retries`. Every retry (of either kind)
   * waits an exponential backoff with jitter first, and nothing is retried once the command has started.
   * @default 8
   */
  handshakeRetries?: number;
  /**
   * Command whose output is parsed as uptime output; output that does not parse gives PARSE.
   * @default "uptime"
   */
  command?: string;
  /**
   * Most bytes of stdout kept; more gives OUTPUT_TOO_LARGE.
   * @default 65536
   */
  maxOutputBytes?: number;
  /**
   * Keep connections per target and reuse them (`true` uses the defaults of {@link PoolOptions}); `false` opens
   * and closes a connection for every probe.
   * @default true
   */
  pool?: boolean | PoolOptions;
  /**
   * New (unauthenticated) connections at once to one address:port (after DNS, so aliases of one machine share the
   * limit), so that sshd's MaxStartups does not drop them. Time spent waiting for a slot is not charged to
   * `connectTimeoutMs` (it is to `deadlineMs`).
   * @default 8
   */
  perHostConcurrency?: number;
  /**
   * OpenSSH client config files read for every target (HostName, User, Port, IdentityFile, IdentitiesOnly,
   * IdentityAgent, ProxyJump, ProxyCommand, ConnectTimeout, StrictHostKeyChecking, UserKnownHostsFile,
   * GlobalKnownHostsFile, HostKeyAlias; `Include`, `Host`, `Match`), or `false` for none. What they say wins over
   * `username`, `port`, `identityFiles`, `agent`, `knownHosts`, `hostKeyPolicy` and `connectTimeoutMs`; the
   * target's own `user@` and `:port` win over them.
   * @default the files among ~/.ssh/config and /etc/ssh/ssh_config that exist
   */
  sshConfig?: string | string[] | false;
  /**
   * Bastions for every target, as `ssh -J` (`[user@]host[:port]` each, first hop first); like `-J` it wins over
   * ssh_config's ProxyJump. Each hop is resolved through ssh_config, authenticated and host-key-checked like a
   * target.
   */
  jump?: string[];
  /**
   * Targets' channels one bastion connection carries; another connection to that bastion is opened beyond it.
   * @default 64
   */
  jumpChannels?: number;
  /** Diagnostics sink. */
  logger?: ProbeLogger;
}

/** Where a target went after ssh_config: results carry it (`target` stays the name as given). */
export interface ResolvedSummary {
  hostname: string;
  port: number;
  user: string;
  /** The ProxyJump chain, first hop first. */
  jump?: string[];
}

/** A successful probe. */
export interface ProbeSuccess {
  ok: true;
  /** The target string as passed, or formatTarget of the object. */
  target: string;
  uptime: Uptime;
  /** stdout of the command. */
  output: string;
  durationMs: number;
  /** Attempts made (1 unless `retries` was used). */
  attempts: number;
  /** Whether a pooled connection was reused. */
  reused: boolean;
  /** What the target resolved to. */
  resolved?: ResolvedSummary;
}

/** A failed probe: a host's failure is data, never an exception. */
export interface ProbeFailure {
  ok: false;
  target: string;
  /** `hop`: the bastion that failed (ProxyJump), when it was not the target itself. */
  error: { code: ProbeErrorCode; message: string; exitStatus?: number; hop?: string };
  durationMs: number;
  attempts: number;
  /** What the target resolved to (absent when it could not be resolved). */
  resolved?: ResolvedSummary;
}

export type ProbeResult = ProbeSuccess | ProbeFailure;

/** Result of a probe run with a custom `command`: `uptime` only when the output parses as uptime output. */
export type CommandResult =
  | (Omit<ProbeSuccess, "uptime"> & { uptime?: Uptime; stderr: string })
  | ProbeFailure;

/** Per-call options of {@link Probe.probe}. */
export interface ProbeCallOptions {
  signal?: AbortSignal;
}

/** Counters for monitoring. */
export interface ProbeStats {
  /** Probes waiting for a slot. */
  queued: number;
  /** Probes running. */
  running: number;
  /** Idle pooled connections. */
  idle: number;
  /** Open connections (idle and in use). */
  open: number;
}

/** A pooled SSH executor made by {@link createProbe}. */
export interface Probe {
  /**
   * Runs the uptime command on one target. Always returns a promise: never rejects for the host's failure, only
   * for misuse (a malformed target, a bad or unknown call option), and never throws.
   */
  probe(target: string | Target, options?: ProbeCallOptions): Promise<ProbeResult>;
  /** Runs a custom command; `uptime` is filled in when its output happens to be uptime output. */
  probe(target: string | Target, options: ProbeCallOptions & { command: string }): Promise<CommandResult>;
  /**
   * Probes many targets, yielding results in completion order; at most `concurrency` targets are read ahead. A
   * malformed target is that target's `BAD_TARGET` result; a string instead of an iterable, or a bad option,
   * rejects at the first step of the loop.
   */
  probeAll(
    targets: Iterable<string | Target> | AsyncIterable<string | Target>,
    options?: ProbeCallOptions,
  ): AsyncIterable<ProbeResult>;
  /** Current counters. */
  stats(): ProbeStats;
  /** Aborts queued and running probes (ABORTED), closes every connection and flushes known_hosts. */
  close(): Promise<void>;
}
