// createProbe: the one closure that owns a probe's shared state (options, agent pools, identity and
// known_hosts sets, ssh_config, the queue, per-address handshake limits, the connection pool) and runs one
// target through resolve -> handshake slot -> connect (directly, over a jump chain or a ProxyCommand) ->
// exec -> result, with retries inside the deadline. Over 350 lines on purpose: each step lives in its own
// module (ssh-config, limits, connection, exec, jump, proxy-command, retry, identity-selection, pool); what
// stays here is their order and the settle-exactly-once bookkeeping, which must be read in one place.
import { lookup } from "node:dns/promises";
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { describeValue } from "@uptime/protocol/check";
import PQueueImport from "p-queue";
import { AgentPool } from "./agent.js";
import { type Connection, openConnection } from "./connection.js";
import { classifyError, PreBannerError, ProbeError, RETRIABLE_CODES } from "./errors.js";
import { type ExecResult, execCommand, StaleConnectionError } from "./exec.js";
import { AgentKeySelection, loadPublicKeyBlob } from "./identity-selection.js";
import { JumpHosts, withHop } from "./jump.js";
import { defaultIdentityFiles, type IdentitySet, loadIdentities } from "./keys.js";
import { KnownHosts, knownHostsName, orderHostKeyAlgorithms } from "./known-hosts.js";
import { getOpenFilesLimit, KeyedLimiter } from "./limits.js";
import { checkCallOptions, resolveOptions } from "./options.js";
import { ConnectionPool, endConnection } from "./pool.js";
import { probeAll } from "./probe-all.js";
import { spawnProxyCommand } from "./proxy-command.js";
import { backoffMs, waitBackoff } from "./retry.js";
import { type ResolvedTarget, sshConfigFor } from "./ssh-config.js";
import { formatTarget, parseTarget } from "./target.js";
import type {
  CommandResult,
  Probe,
  ProbeOptions,
  ProbeResult,
  ProbeStats,
  ResolvedSummary,
  Target,
} from "./types.js";
import { parseUptime } from "./uptime.js";

// p-queue is ESM-only: the CJS build gets it through require(esm), whose namespace the bundler's interop wraps
// once more. Unwrap so both builds get the class.
const PQueue = (PQueueImport as unknown as { default?: typeof PQueueImport }).default ?? PQueueImport;

/** A target as `run` takes it: parsed, with the label its result carries. */
interface ParsedTarget {
  target: Target;
  label: string;
}

function toTarget(input: unknown): ParsedTarget {
  if (typeof input === "string") return { target: parseTarget(input), label: input };
  const t = input as Partial<Target> | null;
  if (
    typeof t !== "object" ||
    t === null ||
    typeof t.host !== "string" ||
    t.host === "" ||
    (t.port !== undefined && typeof t.port !== "number") ||
    (t.user !== undefined && typeof t.user !== "string")
  ) {
    throw new TypeError(`Expected a target string or { host, port?, user? }, got ${describeValue(input)}`);
  }
  // Round-trip through the parser so objects get the same validation as strings (a port of 70000 included).
  const label = formatTarget(t as Target);
  return { target: parseTarget(label), label };
}

/** The name a bad target's result carries: the string as given, else a short description. */
function badTargetLabel(input: unknown): string {
  const t = input as Partial<Target> | null;
  if (typeof input === "string") return input;
  if (typeof t === "object" && t !== null && typeof t.host === "string") {
    return formatTarget({ host: t.host, ...(typeof t.user === "string" ? { user: t.user } : {}) });
  }
  return describeValue(input);
}

function badTarget(label: string, message: string): ProbeResult {
  return { ok: false, target: label, error: { code: "BAD_TARGET", message }, durationMs: 0, attempts: 0 };
}

function poolKeyOf(r: ResolvedTarget): string {
  return `${r.user}@${r.hostname}:${r.port}${r.jump ? ` via ${r.jump.join(",")}` : ""}`;
}

/** The part of a resolution that results carry. */
function summarize(r: ResolvedTarget): ResolvedSummary {
  return { hostname: r.hostname, port: r.port, user: r.user, ...(r.jump ? { jump: r.jump } : {}) };
}

/**
 * Creates a pooled SSH executor. Keys are read and parsed once here; known_hosts is read on first use.
 *
 * @example
 * import { createProbe } from "@uptime/ssh-probe";
 * const probe = createProbe({ concurrency: 200, hostKeyPolicy: "accept-new" });
 * const r = await probe.probe("root@web1:22");
 * console.log(r.ok ? r.uptime.text : `${r.error.code} ${r.error.message}`);
 * await probe.close();
 */
export function createProbe(options: ProbeOptions = {}): Probe {
  const opts = resolveOptions(options);
  const logger = opts.logger;
  // One agent client per socket: up to 32 long-lived connections to the agent instead of one per login.
  // ssh_config's IdentityAgent may name another socket for some hosts.
  const agents = new Map<string, AgentPool>();
  const agentFor = (socket: string | undefined): AgentPool | undefined => {
    if (socket === undefined || socket === "") return undefined;
    let a = agents.get(socket);
    if (!a) {
      a = new AgentPool(socket);
      agents.set(socket, a);
    }
    return a;
  };
  const defaultIdentities = loadIdentities(opts.identityFiles, opts.passphrase, logger);
  const sshConfig = sshConfigFor(opts.sshConfig, logger);
  // Below ssh_config: the library's options (then OpenSSH's defaults, filled in by the resolution).
  const resolveDefaults = {
    username: opts.username,
    port: opts.port,
    ...(opts.knownHosts !== undefined ? { userKnownHostsFiles: [opts.knownHosts] } : {}),
    ...(opts.globalKnownHosts !== undefined ? { globalKnownHostsFiles: opts.globalKnownHosts } : {}),
  };
  // ssh_config may name other key files and known_hosts files per host: each set is loaded once.
  const identitySets = new Map<string, IdentitySet>();
  const identitiesFor = (files: string[]): IdentitySet => {
    if (files.length === 0) return defaultIdentities;
    const key = files.join("\0");
    let set = identitySets.get(key);
    if (!set) {
      set = loadIdentities(files, opts.passphrase, logger);
      identitySets.set(key, set);
    }
    return set;
  };
  // The configured identity files' public keys (base64), which agent keys are preferred (IdentitiesOnly: kept).
  const publicKeySets = new Map<string, ReadonlySet<string>>();
  const publicKeysFor = (files: string[]): ReadonlySet<string> => {
    const paths =
      files.length > 0 ? files : (opts.identityFiles ?? defaultIdentityFiles().filter((p) => existsSync(p)));
    const key = paths.join("\0");
    let set = publicKeySets.get(key);
    if (!set) {
      const blobs = new Set<string>();
      for (const path of paths) {
        const blob = loadPublicKeyBlob(path);
        if (blob) blobs.add(blob.toString("base64"));
      }
      set = blobs;
      publicKeySets.set(key, set);
    }
    return set;
  };
  const knownHostsSets = new Map<string, KnownHosts>();
  const knownHostsFor = (r: ResolvedTarget): KnownHosts | undefined => {
    const policy = r.hostKeyPolicy ?? opts.hostKeyPolicy;
    if (policy === "off") return undefined;
    const user = r.userKnownHostsFiles;
    const global = r.globalKnownHostsFiles;
    const key = `${policy}\0${user.join("\0")}\0\0${global.join("\0")}`;
    let kh = knownHostsSets.get(key);
    if (!kh) {
      kh = new KnownHosts(user, policy, logger, global);
      knownHostsSets.set(key, kh);
    }
    return kh;
  };
  const pool = new ConnectionPool(opts.pool?.maxConnections ?? 0, opts.pool?.idleTimeoutMs ?? 1);
  const hostLimiter = new KeyedLimiter(opts.perHostConcurrency);
  const queue = new PQueue({ concurrency: opts.concurrency });
  // What close() aborts: every probe not yet finished. A plain set, not listeners on an AbortSignal: adding and
  // removing an EventTarget listener per probe showed in the profiles of pooled re-probes.
  const live = new Set<() => void>();
  let closed = false;
  let running = 0;

  const limit = getOpenFilesLimit();
  // Each connection is one descriptor; keep headroom for the process itself.
  const needed = opts.concurrency + (opts.pool?.maxConnections ?? 0) + 64;
  if (limit && limit.soft < needed) {
    logger?.warn?.(
      `open-files soft limit ${limit.soft} is below the ${needed} descriptors concurrency ${opts.concurrency} ` +
        `plus pool ${opts.pool?.maxConnections ?? 0} may need (hard limit ${limit.hard}): raise \`ulimit -n\` or ` +
        "lower concurrency/pool.maxConnections, otherwise probes fail with LOCAL (EMFILE)",
      { soft: limit.soft, hard: limit.hard, needed },
    );
  }

  /**
   * A connection for `poolKey`: a pooled one when there is one, else a new one once a handshake slot for the
   * resolved address is free (the wait is not charged to the connect timeout). While waiting, another probe may
   * have returned a connection to the pool: it is taken instead of opening one more.
   */
  /** Opens and authenticates a connection to `r` as ssh_config says, over `stream` when one is given. */
  function dial(r: ResolvedTarget, address: string, stream: Duplex | undefined, signal: AbortSignal) {
    const { identities, problems } = identitiesFor(r.identityFiles);
    const knownHosts = knownHostsFor(r);
    const hostKeyName = r.hostKeyAlias ?? knownHostsName(r.hostname, r.port);
    const agent = agentFor(r.identityAgent === false ? undefined : (r.identityAgent ?? opts.agent));
    // As OpenSSH: agent keys of the configured identity files first; IdentitiesOnly drops only the others.
    const filePublicKeys = agent ? publicKeysFor(r.identityFiles) : undefined;
    const agentKeys =
      filePublicKeys && (r.identitiesOnly || filePublicKeys.size > 0)
        ? new AgentKeySelection(filePublicKeys, r.identitiesOnly)
        : undefined;
    return openConnection(
      {
        poolKey: poolKeyOf(r),
        host: r.hostname,
        address,
        port: r.port,
        username: r.user,
        openStream: stream
          ? () => stream
          : r.proxyCommand
            ? () => spawnProxyCommand(r.proxyCommand!)
            : undefined,
        connectTimeoutMs: r.connectTimeoutMs ?? opts.connectTimeoutMs,
        handshakeTimeoutMs: opts.handshakeTimeoutMs,
        agent,
        agentKeys,
        identities,
        identityProblems: problems,
        hostKeyAlgorithms: knownHosts
          ? orderHostKeyAlgorithms(knownHosts.knownTypesOf(hostKeyName))
          : undefined,
        verifyHostKey: knownHosts ? (key) => knownHosts.checkName(hostKeyName, key) : undefined,
      },
      signal,
    );
  }

  const resolveName = (input: string): ResolvedTarget => {
    const t = parseTarget(input);
    return sshConfig.resolve(
      t.host,
      {
        ...(t.user !== undefined ? { user: t.user } : {}),
        ...(t.port !== undefined ? { port: t.port } : {}),
      },
      resolveDefaults,
    );
  };

  const jumpChains = new Map<string, string[]>();
  const jumpChainOf = (jump: string[]): string[] => {
    const key = jump.join(",");
    let chain = jumpChains.get(key);
    if (!chain) {
      chain = sshConfig.jumpChain(jump, resolveDefaults);
      jumpChains.set(key, chain);
    }
    return chain;
  };

  // Bastions: one authenticated connection per hop carries many targets' channels.
  const jumps = new JumpHosts(
    { channelsPerConnection: opts.jumpChannels, idleTimeoutMs: opts.pool?.idleTimeoutMs ?? 60_000 },
    async (hop, via, signal) => {
      const r = resolveName(hop);
      const stream = via ? await via(r.hostname, r.port) : undefined;
      const address =
        stream || r.proxyCommand || isIP(r.hostname) ? r.hostname : (await lookup(r.hostname)).address;
      return dial(r, address, stream, signal);
    },
  );

  /** The hop lost under a channel; waits a turn, as the bastion's close may still be on its way. */
  async function lostHopOf(stream: Duplex): Promise<string | undefined> {
    const now = jumps.lostHop(stream);
    if (now) return now;
    await new Promise((r) => setTimeout(r, 20));
    return jumps.lostHop(stream);
  }

  /**
   * A connection for `r`: a pooled one when there is one, else a new one once a handshake slot for the
   * resolved address is free (the wait is not charged to the connect timeout). While waiting, another probe may
   * have returned a connection to the pool: it is taken instead of opening one more.
   */
  async function connect(
    r: ResolvedTarget,
    signal: AbortSignal,
  ): Promise<{ conn: Connection; reused: boolean }> {
    const { hostname, port } = r;
    const poolKey = poolKeyOf(r);
    // Behind a bastion or a ProxyCommand the name is theirs to resolve: no DNS here, the limit is per name.
    const address = r.jump || r.proxyCommand || isIP(hostname) ? hostname : (await lookup(hostname)).address;
    const limitKey = r.jump ? `${r.jump.join(">")}>${address}:${port}` : `${address}:${port}`;
    const permit = await hostLimiter.acquire(limitKey, signal);
    let outcome: "ok" | "dropped" | "other" = "other";
    try {
      const pooled = opts.pool ? pool.take(poolKey) : undefined;
      if (pooled) return { conn: pooled, reused: true };
      const stream = r.jump ? await jumps.channel(r.jump, hostname, port, signal) : undefined;
      let conn: Connection;
      try {
        conn = await dial(r, address, stream, signal);
      } catch (err) {
        // The bastion went away during the handshake: that, not the target, is what failed; worth a retry.
        const hop = stream && (await lostHopOf(stream));
        if (hop)
          throw withHop(
            new PreBannerError("CLOSED", `connection to bastion ${hop} lost`, { cause: err }),
            hop,
          );
        throw err;
      }
      pool.track(conn);
      outcome = "ok";
      return { conn, reused: false };
    } catch (err) {
      if (err instanceof PreBannerError && err.hop === undefined) outcome = "dropped";
      throw err;
    } finally {
      permit.release(outcome);
    }
  }

  /** Runs the command; `progress.commandStarted` tells the caller whether a failure may be retried. */
  async function attempt(
    r: ResolvedTarget,
    command: string,
    signal: AbortSignal,
    progress: { commandStarted: boolean },
  ): Promise<{ exec: ExecResult; reused: boolean }> {
    const execParams = {
      command,
      commandTimeoutMs: opts.commandTimeoutMs,
      maxOutputBytes: opts.maxOutputBytes,
    };
    const exec = async (c: Connection) => {
      try {
        return await execCommand(c, execParams, signal);
      } catch (err) {
        // Only a failure before the channel opened leaves the command unstarted.
        if (!(err instanceof StaleConnectionError)) progress.commandStarted = true;
        const hop = r.jump && err instanceof ProbeError ? await lostHopOf(c.sock) : undefined;
        if (hop) withHop(err as ProbeError, hop);
        throw err;
      }
    };
    let conn: Connection | undefined = opts.pool ? pool.take(poolKeyOf(r)) : undefined;
    let reused = conn !== undefined;
    if (!conn) ({ conn, reused } = await connect(r, signal));
    let result: ExecResult;
    try {
      result = await exec(conn);
    } catch (err) {
      // A pooled connection the server dropped while idle: replace it once, transparently.
      if (!(reused && err instanceof StaleConnectionError) || signal.aborted) throw err;
      logger?.debug?.("pooled connection was dead, reconnecting", { target: r.host });
      ({ conn } = await connect(r, signal));
      reused = false;
      result = await exec(conn);
    }
    if (opts.pool && !closed) pool.release(conn);
    else endConnection(conn);
    return { exec: result, reused };
  }

  async function run(parsed: ParsedTarget, command: string, custom: boolean, signal?: AbortSignal) {
    const { target, label } = parsed;
    const started = performance.now();
    let attempts = 0;
    let resolved: ResolvedTarget | undefined;
    let summary: ResolvedSummary | undefined;
    const fail = (e: ProbeError) =>
      ({
        ok: false as const,
        target: label,
        ...(summary ? { resolved: summary } : {}),
        error: {
          code: e.code,
          message: e.message,
          ...(e.exitStatus !== undefined ? { exitStatus: e.exitStatus } : {}),
          ...(e.hop !== undefined ? { hop: e.hop } : {}),
        },
        durationMs: performance.now() - started,
        attempts,
      }) satisfies ProbeResult;
    if (closed) return fail(new ProbeError("ABORTED", "probe is closed"));
    try {
      resolved = sshConfig.resolve(
        target.host,
        {
          ...(target.user !== undefined ? { user: target.user } : {}),
          ...(target.port !== undefined ? { port: target.port } : {}),
        },
        resolveDefaults,
      );
      if (opts.jump) resolved = { ...resolved, jump: opts.jump, proxyCommand: undefined };
      // The first hop's own ProxyJump comes before it, as with ssh (a loop fails here, with LOCAL).
      if (resolved.jump) resolved = { ...resolved, jump: jumpChainOf(resolved.jump) };
      summary = summarize(resolved);
    } catch (err) {
      return fail(new ProbeError("LOCAL", (err as Error).message, { cause: err }));
    }
    const r = resolved;

    const controller = new AbortController();
    const abort = (reason: ProbeError) => controller.abort(reason);
    const onCallerAbort = () => abort(new ProbeError("ABORTED", "aborted by caller"));
    const onClose = () => abort(new ProbeError("ABORTED", "probe closed"));
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    live.add(onClose);
    if (signal?.aborted) onCallerAbort();
    let deadline: NodeJS.Timeout | undefined;
    try {
      return await queue.add(
        async () => {
          running++;
          deadline = setTimeout(
            () =>
              abort(new ProbeError("DEADLINE", `probe not finished within deadlineMs ${opts.deadlineMs} ms`)),
            opts.deadlineMs,
          );
          // The deadline reached while retrying says less than what the host did: report that.
          let lastFailure: ProbeError | undefined;
          const atDeadline = (e: ProbeError): ProbeError => {
            if (e.code !== "DEADLINE" || !lastFailure) return e;
            const last = new ProbeError(
              lastFailure.code,
              `${lastFailure.message} (still failing at deadlineMs ${opts.deadlineMs} ms, after ${attempts} attempts)`,
              { cause: lastFailure },
            );
            last.hop = lastFailure.hop;
            return last;
          };
          try {
            let retried = 0;
            let handshakeRetried = 0;
            for (;;) {
              attempts++;
              const progress = { commandStarted: false };
              try {
                const { exec, reused } = await attempt(r, command, controller.signal, progress);
                return finish(exec, reused);
              } catch (err) {
                const e = classifyError(err, "exec", target.host);
                if (controller.signal.aborted) return fail(atDeadline(e));
                if (progress.commandStarted) return fail(e);
                if (err instanceof PreBannerError && handshakeRetried < opts.handshakeRetries)
                  handshakeRetried++;
                else if (RETRIABLE_CODES.has(e.code) && retried < opts.retries) retried++;
                else return fail(e);
                const wait = backoffMs(retried + handshakeRetried);
                logger?.debug?.("retrying", { target: label, code: e.code, attempt: attempts, waitMs: wait });
                try {
                  await waitBackoff(wait, controller.signal);
                } catch (abort) {
                  lastFailure = e;
                  return fail(atDeadline(classifyError(abort, "connect", target.host)));
                }
                lastFailure = e;
              }
            }
          } finally {
            running--;
          }
        },
        { signal: controller.signal },
      );
    } catch (err) {
      // Aborted while still queued.
      return fail(classifyError(err, "connect", target.host));
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener("abort", onCallerAbort);
      live.delete(onClose);
    }

    function finish(exec: ExecResult, reused: boolean): ProbeResult | CommandResult {
      if (exec.exitStatus !== 0) {
        const firstLine = exec.stderr.split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
        const how =
          exec.exitStatus === undefined
            ? `killed by signal ${exec.exitSignal}`
            : `exit status ${exec.exitStatus}`;
        return fail(
          new ProbeError("EXIT_STATUS", firstLine ? `${how}: ${firstLine.trim()}` : how, {
            ...(exec.exitStatus !== undefined ? { exitStatus: exec.exitStatus } : {}),
          }),
        );
      }
      const uptime = parseUptime(exec.stdout);
      const base = {
        ok: true as const,
        target: label,
        ...(summary ? { resolved: summary } : {}),
        output: exec.stdout,
        durationMs: performance.now() - started,
        attempts,
        reused,
      };
      if (custom) return uptime ? { ...base, uptime, stderr: exec.stderr } : { ...base, stderr: exec.stderr };
      if (!uptime) {
        const sample = exec.stdout.trim().slice(0, 200);
        return fail(
          new ProbeError("PARSE", `output of "${command}" is not uptime output: ${JSON.stringify(sample)}`),
        );
      }
      return { ...base, uptime };
    }
  }

  const probe: Probe = {
    // Misuse (bad options, a bad target) rejects, never throws: everything about the host resolves.
    probe: (async (input: unknown, callOptions?: unknown) => {
      const { signal, command } = checkCallOptions(callOptions, true);
      return run(toTarget(input), command ?? opts.command, command !== undefined, signal);
    }) as Probe["probe"],
    probeAll: async function* (targets, callOptions) {
      const { signal } = checkCallOptions(callOptions, false);
      yield* probeAll(
        targets,
        (input, signal) => {
          let parsed: ParsedTarget;
          try {
            parsed = toTarget(input);
          } catch (err) {
            // One bad target is that target's result; the others still run.
            return Promise.resolve(badTarget(badTargetLabel(input), (err as Error).message));
          }
          return run(parsed, opts.command, false, signal) as Promise<ProbeResult>;
        },
        { concurrency: opts.concurrency, ...(signal ? { signal } : {}) },
      );
    },
    stats: (): ProbeStats => ({
      queued: queue.size,
      running,
      idle: pool.size,
      open: pool.open.size + jumps.connections,
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const abortOne of [...live]) abortOne();
      await queue.onIdle();
      pool.closeAll();
      for (const a of agents.values()) a.close();
      jumps.closeAll();
      await Promise.all([...knownHostsSets.values()].map((kh) => kh.flush()));
    },
  };
  return probe;
}
