import { userInfo } from "node:os";
import {
  checkChoice,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkString,
  checkTimeout,
  optionError,
  optionNames,
} from "@uptime/protocol/check";
import type { HostKeyPolicy, PoolOptions, ProbeLogger, ProbeOptions } from "./types.js";

/** Options with defaults applied and values checked. */
export interface ResolvedOptions {
  concurrency: number;
  username: string;
  port: number;
  agent: string | undefined;
  identityFiles: string[] | undefined;
  passphrase: string | undefined;
  /** Undefined: OpenSSH's default user files (unless ssh_config names others). */
  knownHosts: string | undefined;
  /** Undefined: OpenSSH's default global files (unless ssh_config names others). */
  globalKnownHosts: string[] | undefined;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  commandTimeoutMs: number;
  deadlineMs: number;
  retries: number;
  handshakeRetries: number;
  command: string;
  maxOutputBytes: number;
  pool: { maxConnections: number; idleTimeoutMs: number } | undefined;
  perHostConcurrency: number;
  sshConfig: string | string[] | false | undefined;
  jump: string[] | undefined;
  jumpChannels: number;
  logger: ProbeLogger | undefined;
}

/** Every option name of {@link ProbeOptions}; fails to compile when one is missing. */
const OPTION_NAMES = optionNames<ProbeOptions>()([
  "concurrency",
  "username",
  "port",
  "agent",
  "identityFiles",
  "passphrase",
  "knownHosts",
  "globalKnownHosts",
  "hostKeyPolicy",
  "connectTimeoutMs",
  "handshakeTimeoutMs",
  "commandTimeoutMs",
  "deadlineMs",
  "retries",
  "handshakeRetries",
  "command",
  "maxOutputBytes",
  "pool",
  "perHostConcurrency",
  "sshConfig",
  "jump",
  "jumpChannels",
  "logger",
]);
const POOL_OPTION_NAMES = optionNames<PoolOptions>()(["maxConnections", "idleTimeoutMs"]);
const CALL_OPTION_NAMES = ["signal", "command"] as const;

/** Limits that keep an option from failing every probe later instead of the call now. */
export const OPTION_LIMITS = {
  concurrency: 1_000_000,
  port: 65_535,
  retries: 1000,
  handshakeRetries: 1000,
  maxOutputBytes: 1 << 30,
  maxConnections: 1_000_000,
  perHostConcurrency: 10_000,
  jumpChannels: 10_000,
  /** Command length (the protocol's limit for a task's command). */
  command: 4096,
} as const;

const POLICIES: readonly HostKeyPolicy[] = ["strict", "accept-new", "off"];

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}

function resolvePool(value: unknown): ResolvedOptions["pool"] {
  if (value === undefined || value === true) return { maxConnections: 1000, idleTimeoutMs: 60_000 };
  if (value === false) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw optionError("pool", "a boolean or { maxConnections, idleTimeoutMs }", value);
  }
  const p = value as Record<string, unknown>;
  checkKnownKeys(p, POOL_OPTION_NAMES, "pool.");
  return {
    maxConnections: checkInteger("pool.maxConnections", p.maxConnections, 1000, {
      min: 0,
      max: OPTION_LIMITS.maxConnections,
    }),
    idleTimeoutMs: checkTimeout("pool.idleTimeoutMs", p.idleTimeoutMs, 60_000),
  };
}

/**
 * Applies defaults and throws a TypeError naming the option for any misuse: a wrong type, a value out of range
 * (ports 1-65535, timeouts at most 2^31-1 ms), or an unknown option name (with the nearest known one).
 */
export function resolveOptions(input: ProbeOptions = {}): ResolvedOptions {
  const options = checkObject("options", input);
  checkKnownKeys(options, OPTION_NAMES);
  const { agent, identityFiles, passphrase, logger } = options;
  if (agent !== undefined && agent !== false && (typeof agent !== "string" || agent.includes("\0"))) {
    throw optionError("agent", "a socket path or false", agent);
  }
  if (
    identityFiles !== undefined &&
    (!Array.isArray(identityFiles) || identityFiles.some((f) => typeof f !== "string" || f === ""))
  ) {
    throw optionError("identityFiles", "an array of paths", identityFiles);
  }
  if (passphrase !== undefined && typeof passphrase !== "string") {
    throw optionError("passphrase", "a string", passphrase);
  }
  const { globalKnownHosts } = options;
  if (
    globalKnownHosts !== undefined &&
    (!Array.isArray(globalKnownHosts) || globalKnownHosts.some((f) => typeof f !== "string" || f === ""))
  ) {
    throw optionError("globalKnownHosts", "an array of paths", globalKnownHosts);
  }
  const sc = options.sshConfig;
  if (
    sc !== undefined &&
    sc !== false &&
    !(typeof sc === "string" && sc !== "") &&
    !(Array.isArray(sc) && sc.every((f) => typeof f === "string" && f !== ""))
  ) {
    throw optionError("sshConfig", "a file path, an array of paths or false", sc);
  }
  if (
    options.jump !== undefined &&
    (!Array.isArray(options.jump) || options.jump.some((h) => typeof h !== "string" || h === ""))
  ) {
    throw optionError("jump", 'an array of "[user@]host[:port]"', options.jump);
  }
  if (logger !== undefined && (typeof logger !== "object" || logger === null)) {
    throw optionError("logger", "an object with debug/info/warn/error methods", logger);
  }
  const socket = agent === false ? undefined : ((agent as string | undefined) ?? process.env.SSH_AUTH_SOCK);
  const int = (name: keyof typeof OPTION_LIMITS, fallback: number, min: number) =>
    checkInteger(name, options[name], fallback, { min, max: OPTION_LIMITS[name] });
  return {
    concurrency: int("concurrency", 100, 1),
    username: checkString("username", options.username, defaultUser(), 256),
    port: int("port", 22, 1),
    agent: socket === "" ? undefined : socket,
    identityFiles: identityFiles as string[] | undefined,
    passphrase: passphrase as string | undefined,
    knownHosts:
      options.knownHosts === undefined ? undefined : checkString("knownHosts", options.knownHosts, ""),
    globalKnownHosts: globalKnownHosts as string[] | undefined,
    hostKeyPolicy: checkChoice("hostKeyPolicy", options.hostKeyPolicy, "strict", POLICIES),
    connectTimeoutMs: checkTimeout("connectTimeoutMs", options.connectTimeoutMs, 10_000),
    handshakeTimeoutMs: checkTimeout("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000),
    commandTimeoutMs: checkTimeout("commandTimeoutMs", options.commandTimeoutMs, 10_000),
    deadlineMs: checkTimeout("deadlineMs", options.deadlineMs, 30_000),
    retries: int("retries", 0, 0),
    handshakeRetries: int("handshakeRetries", 8, 0),
    command: checkString("command", options.command, "uptime", OPTION_LIMITS.command),
    maxOutputBytes: int("maxOutputBytes", 65_536, 1),
    pool: resolvePool(options.pool),
    perHostConcurrency: int("perHostConcurrency", 8, 1),
    sshConfig: sc as string | string[] | false | undefined,
    jump: Array.isArray(options.jump) && options.jump.length > 0 ? (options.jump as string[]) : undefined,
    jumpChannels: int("jumpChannels", 64, 1),
    logger: logger as ProbeLogger | undefined,
  };
}

/** Checks the options of one `probe()`/`probeAll()` call; `command` only where `allowCommand`. */
export function checkCallOptions(
  input: unknown,
  allowCommand: boolean,
): { signal: AbortSignal | undefined; command: string | undefined } {
  const options = checkObject("options", input);
  checkKnownKeys(options, allowCommand ? CALL_OPTION_NAMES : ["signal"]);
  const { signal } = options;
  if (signal !== undefined && !isAbortSignal(signal)) throw optionError("signal", "an AbortSignal", signal);
  const command =
    options.command === undefined
      ? undefined
      : checkString("command", options.command, "", OPTION_LIMITS.command);
  return { signal: signal as AbortSignal | undefined, command };
}

function isAbortSignal(value: unknown): boolean {
  const s = value as AbortSignal | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.aborted === "boolean" &&
    typeof s.addEventListener === "function" &&
    typeof s.removeEventListener === "function"
  );
}
