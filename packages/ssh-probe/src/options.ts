import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { HostKeyPolicy, ProbeLogger, ProbeOptions } from "./types.js";

/** Options with defaults applied and values checked. */
export interface ResolvedOptions {
  concurrency: number;
  username: string;
  port: number;
  agent: string | undefined;
  identityFiles: string[] | undefined;
  passphrase: string | undefined;
  knownHosts: string;
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

function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
}

function int(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected \`${name}\` to be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

function str(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}

/** Applies defaults and throws a TypeError naming the option for any misuse. */
export function resolveOptions(options: ProbeOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  }
  const policy = options.hostKeyPolicy ?? "strict";
  if (!["strict", "accept-new", "off"].includes(policy)) {
    throw new TypeError(
      `Expected \`hostKeyPolicy\` to be "strict", "accept-new" or "off", got ${describe(policy)}`,
    );
  }
  if (options.agent !== undefined && options.agent !== false && typeof options.agent !== "string") {
    throw new TypeError(`Expected \`agent\` to be a socket path or false, got ${describe(options.agent)}`);
  }
  if (
    options.identityFiles !== undefined &&
    (!Array.isArray(options.identityFiles) || options.identityFiles.some((f) => typeof f !== "string"))
  ) {
    throw new TypeError(
      `Expected \`identityFiles\` to be an array of paths, got ${describe(options.identityFiles)}`,
    );
  }
  if (options.passphrase !== undefined && typeof options.passphrase !== "string") {
    throw new TypeError(`Expected \`passphrase\` to be a string, got ${describe(options.passphrase)}`);
  }
  const sc = options.sshConfig;
  if (
    sc !== undefined &&
    sc !== false &&
    !(typeof sc === "string" && sc !== "") &&
    !(Array.isArray(sc) && sc.every((f) => typeof f === "string" && f !== ""))
  ) {
    throw new TypeError(
      `Expected \`sshConfig\` to be a file path, an array of paths or false, got ${describe(sc)}`,
    );
  }
  if (
    options.jump !== undefined &&
    (!Array.isArray(options.jump) || options.jump.some((h) => typeof h !== "string" || h === ""))
  ) {
    throw new TypeError(
      `Expected \`jump\` to be an array of "[user@]host[:port]", got ${describe(options.jump)}`,
    );
  }
  let pool: ResolvedOptions["pool"];
  const p = options.pool ?? true;
  if (p === true) pool = { maxConnections: 1000, idleTimeoutMs: 60_000 };
  else if (p === false) pool = undefined;
  else if (typeof p === "object" && p !== null) {
    pool = {
      maxConnections: int("pool.maxConnections", p.maxConnections, 1000, 0),
      idleTimeoutMs: int("pool.idleTimeoutMs", p.idleTimeoutMs, 60_000, 1),
    };
  } else {
    throw new TypeError(
      `Expected \`pool\` to be a boolean or { maxConnections, idleTimeoutMs }, got ${describe(p)}`,
    );
  }
  const agent = options.agent === false ? undefined : (options.agent ?? process.env.SSH_AUTH_SOCK);
  return {
    concurrency: int("concurrency", options.concurrency, 100, 1),
    username: str("username", options.username, defaultUser()),
    port: options.port === undefined ? 22 : int("port", options.port, 22, 1),
    agent: agent === "" ? undefined : agent,
    identityFiles: options.identityFiles,
    passphrase: options.passphrase,
    knownHosts: str("knownHosts", options.knownHosts, join(homedir(), ".ssh", "known_hosts")),
    hostKeyPolicy: policy,
    connectTimeoutMs: int("connectTimeoutMs", options.connectTimeoutMs, 10_000, 1),
    handshakeTimeoutMs: int("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000, 1),
    commandTimeoutMs: int("commandTimeoutMs", options.commandTimeoutMs, 10_000, 1),
    deadlineMs: int("deadlineMs", options.deadlineMs, 30_000, 1),
    retries: int("retries", options.retries, 0, 0),
    handshakeRetries: int("handshakeRetries", options.handshakeRetries, 8, 0),
    command: str("command", options.command, "uptime"),
    maxOutputBytes: int("maxOutputBytes", options.maxOutputBytes, 65_536, 1),
    pool,
    perHostConcurrency: int("perHostConcurrency", options.perHostConcurrency, 8, 1),
    sshConfig: sc,
    jump: options.jump && options.jump.length > 0 ? options.jump : undefined,
    jumpChannels: int("jumpChannels", options.jumpChannels, 64, 1),
    logger: options.logger,
  };
}
