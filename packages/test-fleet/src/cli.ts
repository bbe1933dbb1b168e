import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EXIT, exitCodeFor, UsageError } from "@uptime/cli-kit";
import { type FleetAgent, startAgent } from "./agent.js";
import { BEHAVIOURS, type Behaviour, failureMix, isBehaviour } from "./behaviours.js";
import { HOSTS_PER_PROCESS, type RunningShards, SHARD_ENV, startShards } from "./cli-shards.js";
import { type Fleet, startFleet } from "./fleet.js";
import type { FleetOptions } from "./fleet-options.js";

const USAGE = `Usage: uptime-test-fleet --hosts N [options]

Serves N simulated SSH hosts on loopback addresses until SIGINT/SIGTERM.
Prints one JSON line on stdout when listening; logs go to stderr.

Options:
  --hosts N                 number of hosts (required)
  --first-address A         first loopback address (default 127.1.0.1)
  --hosts-per-address K     hosts sharing one address on different ports (default 1)
  --port P                  port of every listener, 0 = ephemeral (default 0)
  --latency MS              delay added to every write of the server (default 0)
  --user NAME               user written into the inventory (default fleet)
  --out DIR                 where inventory.txt, known_hosts and id_ed25519 go (default: a temp dir)
  --behaviours LIST         per-host behaviours, e.g. "5:auth-reject,7:silent"
  --fail-rate R             fraction 0..1 of hosts given a deterministic mix of failure behaviours
  --first-index I           serve hosts I..I+N-1 of a larger fleet (default 0)
  --host-key FILE           serve this OpenSSH ed25519 host key on every host (implies --shared-host-key)
  --shared-host-key         one host key for every host (the best case for host-key caches) instead of
                            a key per host, as a real fleet has (per-host keys are derived from the host
                            index; their public keys are cached in the temp dir, so start-up stays fast)
  --client-key FILE         accept this OpenSSH ed25519 client key (default: a new one)
  --agent                   also start an ssh-agent holding the client key; its socket is "agentSocket"
                            in the ready line (stopped with the fleet)
  --processes P             split the fleet over P processes sharing keys, for fleets beyond one
                            process's open-files limit (default: 1, or enough for 9000 hosts each)
  --hold-cap MS             cap for never-ending connections (default 60000)
  --stats-every MS          log the fleet's counters to stderr every MS (default: only at exit)
  -v, --verbose             log connection diagnostics to stderr
  -h, --help                show this help

Behaviours: ${BEHAVIOURS.join(", ")}
`;

/**
 * The exit code for an error, by its `code` (cli-kit's rule): startFleet's option errors come from flags here,
 * so they are usage errors like the flag parser's.
 */
function exitCodeOf(err: unknown): number {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === "INVALID_OPTION" || code === "UNKNOWN_OPTION" ? EXIT.usage : exitCodeFor(err);
}

const PASS_THROUGH = [
  "stats-every",
  "first-address",
  "hosts-per-address",
  "port",
  "latency",
  "user",
  "behaviours",
  "fail-rate",
  "hold-cap",
] as const;

function intFlag(
  name: string,
  value: string | undefined,
  min: number,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} expects a whole number >= ${min}, got "${value}"`);
  }
  return n;
}

function parseBehaviours(text: string): Record<number, Behaviour> {
  const out: Record<number, Behaviour> = {};
  for (const part of text.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const m = /^(\d+):([a-z-]+)$/.exec(item);
    if (!m) throw new UsageError(`--behaviours expects INDEX:BEHAVIOUR items, got "${item}"`);
    if (!isBehaviour(m[2])) throw new UsageError(`--behaviours: unknown behaviour "${m[2]}" in "${item}"`);
    out[Number(m[1])] = m[2];
  }
  return out;
}

/** What the command line asks for. */
export type CliRequest =
  | { help: true }
  | {
      help: false;
      verbose: boolean;
      options: FleetOptions;
      /** 0: decide from the host count. */
      processes: number;
      passThrough: string[];
      statsEveryMs: number;
      agent: boolean;
    };

/** Turns argv into fleet options; throws UsageError for bad flags. */
export function parseCliArgs(argv: string[]): CliRequest {
  let values: ReturnType<typeof parse>["values"];
  function parse(args: string[]) {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        hosts: { type: "string" },
        "first-address": { type: "string" },
        "hosts-per-address": { type: "string" },
        port: { type: "string" },
        latency: { type: "string" },
        user: { type: "string" },
        out: { type: "string" },
        behaviours: { type: "string" },
        "fail-rate": { type: "string" },
        "hold-cap": { type: "string" },
        "first-index": { type: "string" },
        "host-key": { type: "string" },
        "client-key": { type: "string" },
        "shared-host-key": { type: "boolean" },
        agent: { type: "boolean" },
        processes: { type: "string" },
        "stats-every": { type: "string" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
    });
  }
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { help: true };
  const hosts = intFlag("hosts", values.hosts, 1);
  if (hosts === undefined) throw new UsageError("--hosts N is required");
  const options: FleetOptions = { hosts };
  if (values["first-address"] !== undefined) options.firstAddress = values["first-address"];
  options.hostsPerAddress = intFlag("hosts-per-address", values["hosts-per-address"], 1, 1);
  options.port = intFlag("port", values.port, 0, 0);
  options.latencyMs = intFlag("latency", values.latency, 0, 0);
  options.holdCapMs = intFlag("hold-cap", values["hold-cap"], 1, 60_000);
  options.firstIndex = intFlag("first-index", values["first-index"], 0, 0);
  for (const [flag, key] of [
    ["host-key", "hostKey"],
    ["client-key", "clientKey"],
  ] as const) {
    const file = values[flag];
    if (file === undefined) continue;
    try {
      options[key] = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  if (values["shared-host-key"]) options.sharedHostKey = true;
  if (values.user !== undefined) options.user = values.user;
  if (values.out !== undefined) options.dir = values.out;
  const explicit = values.behaviours === undefined ? {} : parseBehaviours(values.behaviours);
  let mix: ((index: number) => Behaviour) | undefined;
  if (values["fail-rate"] !== undefined) {
    const rate = Number(values["fail-rate"]);
    if (values["fail-rate"].trim() === "" || !(rate >= 0 && rate <= 1)) {
      throw new UsageError(`--fail-rate expects a fraction from 0 to 1, got "${values["fail-rate"]}"`);
    }
    mix = failureMix(rate);
  }
  const pick = mix;
  options.behaviours = pick ? (i) => explicit[i] ?? pick(i) : explicit;
  const processes = intFlag("processes", values.processes, 1, 0) ?? 0;
  const statsEveryMs = intFlag("stats-every", values["stats-every"], 100, 0) ?? 0;
  if (processes > 1 && (values["host-key"] !== undefined || values["client-key"] !== undefined)) {
    throw new UsageError(
      "--processes generates the keys it shares; it cannot be combined with --host-key/--client-key",
    );
  }
  // What every shard process gets unchanged.
  const passThrough: string[] = [];
  for (const flag of PASS_THROUGH) {
    const value = values[flag];
    if (value !== undefined) passThrough.push(`--${flag}`, value);
  }
  if (values.verbose) passThrough.push("--verbose");
  if (values["shared-host-key"]) passThrough.push("--shared-host-key");
  return {
    help: false,
    verbose: values.verbose === true,
    options,
    processes,
    passThrough,
    statsEveryMs,
    agent: values.agent === true,
  };
}

/** Resolves on SIGINT/SIGTERM, or, in a shard process, when the parent's end of stdin closes (parent died). */
function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    if (process.env[SHARD_ENV] === "1") {
      process.stdin.on("data", () => {});
      process.stdin.once("close", () => resolve("parent gone"));
    }
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // A second signal exits at once.
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

async function startAgentOrLog(identity: string, log: (m: string) => void): Promise<FleetAgent | undefined> {
  try {
    return await startAgent([identity]);
  } catch (err) {
    log(`--agent: ${(err as Error).message}`);
    return undefined;
  }
}

/** Entry point of `uptime-test-fleet`; resolves when the fleet has been closed after a signal. */
export async function main(argv: string[]): Promise<void> {
  const log = (message: string): void => {
    process.stderr.write(`uptime-test-fleet: ${message}\n`);
  };
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    if (exitCodeOf(err) !== EXIT.usage) throw err;
    log((err as Error).message);
    process.stderr.write("Try --help.\n");
    process.exitCode = EXIT.usage;
    return;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { options, verbose } = parsed;
  const processes = parsed.processes || Math.ceil(options.hosts / HOSTS_PER_PROCESS);
  const signalled = waitForSignal();
  if (processes > 1) {
    let shards: RunningShards;
    try {
      shards = await startShards({
        hosts: options.hosts,
        firstIndex: options.firstIndex ?? 0,
        processes,
        passThrough: parsed.passThrough,
        dir: options.dir,
        log,
      });
    } catch (err) {
      log((err as Error).message);
      process.exitCode = 1;
      return;
    }
    const agent = parsed.agent ? await startAgentOrLog(String(shards.ready.identity), log) : undefined;
    if (parsed.agent && !agent) {
      await shards.stop();
      process.exitCode = 1;
      return;
    }
    process.stdout.write(
      `${JSON.stringify({ ...shards.ready, ...(agent ? { agentSocket: agent.socketPath, agentPid: agent.pid } : {}) })}\n`,
    );
    const why = await Promise.race([signalled, shards.died]);
    log(`${why}: stopping ${processes} processes`);
    await agent?.stop();
    await shards.stop();
    process.exitCode = why === "SIGINT" || why === "SIGTERM" ? 0 : 1;
    return;
  }
  options.logger = { info: log, ...(verbose ? { debug: log } : {}) };
  let fleet: Fleet;
  try {
    fleet = await startFleet(options);
  } catch (err) {
    log((err as Error).message);
    process.exitCode = exitCodeOf(err);
    return;
  }
  const agent = parsed.agent ? await startAgentOrLog(fleet.clientKeyPath, log) : undefined;
  if (parsed.agent && !agent) {
    await fleet.close();
    process.exitCode = 1;
    return;
  }
  const ready = {
    ready: true,
    ...(agent ? { agentSocket: agent.socketPath, agentPid: agent.pid } : {}),
    hosts: fleet.hosts.length,
    dir: fleet.dir,
    inventory: fleet.inventoryPath,
    knownHosts: fleet.knownHostsPath,
    knownHostsHashed: fleet.knownHostsHashedPath,
    sharedHostKey: fleet.sharedHostKey,
    identity: fleet.clientKeyPath,
    firstTarget: fleet.hosts[0]?.target,
    pid: process.pid,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const ticker =
    parsed.statsEveryMs > 0
      ? setInterval(() => log(`stats ${JSON.stringify(fleet.stats())}`), parsed.statsEveryMs)
      : undefined;
  const signal = await signalled;
  clearInterval(ticker);
  log(`${signal}: closing; stats ${JSON.stringify(fleet.stats())}`);
  await agent?.stop();
  await fleet.close();
  if (process.env[SHARD_ENV] === "1") process.stdin.destroy(); // the pipe would keep the process alive
  process.exitCode = 0;
}
