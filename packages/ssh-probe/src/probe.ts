import { setMaxListeners } from "node:events";
import { describeValue } from "@uptime/protocol/check";
import PQueueImport from "p-queue";
import {
  type Connection,
  type ExecResult,
  execCommand,
  openConnection,
  StaleConnectionError,
} from "./connection.js";
import { classifyError, ProbeError, RETRIABLE_CODES } from "./errors.js";
import { installFastVerify } from "./fast-crypto.js";
import { loadIdentities } from "./keys.js";
import { KnownHosts } from "./known-hosts.js";
import { getOpenFilesLimit, KeyedLimiter } from "./limits.js";
import { checkCallOptions, resolveOptions } from "./options.js";
import { ConnectionPool, endConnection } from "./pool.js";
import { probeAll } from "./probe-all.js";
import { formatTarget, parseTarget } from "./target.js";
import type { CommandResult, Probe, ProbeOptions, ProbeResult, ProbeStats, Target } from "./types.js";
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
  installFastVerify();
  const logger = opts.logger;
  const { identities, problems } = loadIdentities(opts.identityFiles, opts.passphrase, logger);
  const knownHosts =
    opts.hostKeyPolicy === "off" ? undefined : new KnownHosts(opts.knownHosts, opts.hostKeyPolicy, logger);
  const pool = new ConnectionPool(opts.pool?.maxConnections ?? 0, opts.pool?.idleTimeoutMs ?? 1);
  const hostLimiter = new KeyedLimiter(opts.perHostConcurrency);
  const queue = new PQueue({ concurrency: opts.concurrency });
  const closing = new AbortController();
  // Every running probe listens on it; that is by design, not a leak.
  setMaxListeners(0, closing.signal);
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

  async function connect(target: Target, username: string, port: number, signal: AbortSignal) {
    const destination = `${target.host}:${port}`;
    const release = await hostLimiter.acquire(destination, signal);
    try {
      const conn = await openConnection(
        {
          poolKey: `${username}@${destination}`,
          host: target.host,
          port,
          username,
          connectTimeoutMs: opts.connectTimeoutMs,
          handshakeTimeoutMs: opts.handshakeTimeoutMs,
          agent: opts.agent,
          identities,
          identityProblems: problems,
          verifyHostKey: knownHosts ? (key) => knownHosts.check(target.host, port, key) : undefined,
        },
        signal,
      );
      pool.track(conn);
      return conn;
    } finally {
      release();
    }
  }

  async function attempt(
    target: Target,
    command: string,
    signal: AbortSignal,
  ): Promise<{ exec: ExecResult; reused: boolean }> {
    const username = target.user ?? opts.username;
    const port = target.port ?? opts.port;
    const execParams = {
      command,
      commandTimeoutMs: opts.commandTimeoutMs,
      maxOutputBytes: opts.maxOutputBytes,
    };
    let conn: Connection | undefined = opts.pool
      ? pool.take(`${username}@${target.host}:${port}`)
      : undefined;
    let reused = conn !== undefined;
    if (!conn) conn = await connect(target, username, port, signal);
    let exec: ExecResult;
    try {
      exec = await execCommand(conn, execParams, signal);
    } catch (err) {
      // A pooled connection the server dropped while idle: replace it once, transparently.
      if (!(reused && err instanceof StaleConnectionError) || signal.aborted) throw err;
      logger?.debug?.("pooled connection was dead, reconnecting", { target: formatTarget(target) });
      conn = await connect(target, username, port, signal);
      reused = false;
      exec = await execCommand(conn, execParams, signal);
    }
    if (opts.pool && !closed) pool.release(conn);
    else endConnection(conn);
    return { exec, reused };
  }

  async function run(parsed: ParsedTarget, command: string, custom: boolean, signal?: AbortSignal) {
    const { target, label } = parsed;
    const started = performance.now();
    let attempts = 0;
    const fail = (e: ProbeError) =>
      ({
        ok: false as const,
        target: label,
        error: {
          code: e.code,
          message: e.message,
          ...(e.exitStatus !== undefined ? { exitStatus: e.exitStatus } : {}),
        },
        durationMs: performance.now() - started,
        attempts,
      }) satisfies ProbeResult;
    if (closed) return fail(new ProbeError("ABORTED", "probe is closed"));

    const controller = new AbortController();
    const abort = (reason: ProbeError) => controller.abort(reason);
    const onCallerAbort = () => abort(new ProbeError("ABORTED", "aborted by caller"));
    const onClose = () => abort(new ProbeError("ABORTED", "probe closed"));
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    closing.signal.addEventListener("abort", onClose, { once: true });
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
          try {
            for (;;) {
              attempts++;
              try {
                const { exec, reused } = await attempt(target, command, controller.signal);
                return finish(exec, reused);
              } catch (err) {
                const e = classifyError(err, "exec", target.host);
                if (attempts > opts.retries || controller.signal.aborted || !RETRIABLE_CODES.has(e.code)) {
                  return fail(e);
                }
                logger?.debug?.("retrying", { target: label, code: e.code, attempt: attempts });
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
      closing.signal.removeEventListener("abort", onClose);
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
    stats: (): ProbeStats => ({ queued: queue.size, running, idle: pool.size, open: pool.open.size }),
    close: async () => {
      if (closed) return;
      closed = true;
      closing.abort();
      await queue.onIdle();
      pool.closeAll();
      await knownHosts?.flush();
    },
  };
  return probe;
}
