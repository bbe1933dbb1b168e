import { constants, existsSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import {
  type CliRun,
  cliMain,
  createLogger,
  EXIT,
  type MainContext,
  packageLogger,
  parseChoice,
  parseDuration,
  parseEndpoint,
  parseInteger,
  parseText,
  UsageError,
} from "@uptime/cli-kit";
import { LIMITS } from "@uptime/protocol";
import { createProbe, type ProbeOptions, parseTarget } from "@uptime/ssh-probe";
import { isZ85Key, readKeyPair, serveTasks, WorkerLink, writeKeyPair } from "@uptime/transport-zmq";
import { type Flags, POLICIES, spec } from "./flags.js";
import { toResult } from "./to-result.js";

const NOTICE_EVERY_MS = 5 * 60_000;

export const main = cliMain(spec, run, { genKey: (path) => writeKeyPair(path) });

async function run({ flags, positionals }: CliRun<Flags>, { signal }: MainContext): Promise<number> {
  if (positionals.length > 2)
    throw new UsageError(
      `uptime-worker: expected WORKER_ID [CONCURRENCY], got ${positionals.length} arguments`,
    );
  const id = positionals[0] ?? flags.id ?? `worker-${process.pid}`;
  if (!/^[\w.:-]{1,64}$/.test(id))
    throw new UsageError(
      `uptime-worker: worker id "${id}" must be 1-64 letters, digits, '.', ':', '_' or '-'`,
    );
  const concurrency = parseInteger(
    positionals[1] === undefined ? "--concurrency" : "CONCURRENCY",
    positionals[1] ?? flags.concurrency,
    1,
    10_000,
  );
  const port = parseInteger("--port", flags.port, 1, 65_535);
  const hostKeyPolicy = parseChoice("--host-key-policy", flags["host-key-policy"], POLICIES);
  const log = createLogger(spec.name, { verbose: flags.verbose });
  const curve = await curveOptions(flags);
  let passphrase: string | undefined;
  if (flags["passphrase-env"]) {
    passphrase = process.env[flags["passphrase-env"]];
    if (passphrase === undefined)
      throw new UsageError(
        `uptime-worker: environment variable ${flags["passphrase-env"]} (--passphrase-env) is not set`,
      );
  }

  const keep = parseInteger("--keep-connections", flags["keep-connections"], 0, 100_000);
  const keepIdleMs = parseDuration("--keep-idle", flags["keep-idle"]);
  if (flags["no-ssh-config"] && flags["ssh-config"])
    throw new UsageError("uptime-worker: -F/--ssh-config and --no-ssh-config exclude each other");
  if (flags["ssh-config"] && !existsSync(flags["ssh-config"]))
    throw new UsageError(`uptime-worker: -F ${flags["ssh-config"]}: no such file`);
  const jump = flags.jump ? flags.jump.split(",").map((h) => h.trim()) : undefined;
  for (const hop of jump ?? []) {
    try {
      parseTarget(hop);
    } catch (err) {
      throw new UsageError(`uptime-worker: -J ${flags.jump}: ${(err as Error).message}`);
    }
  }
  for (const file of flags.identity) {
    try {
      await access(file, constants.R_OK);
    } catch (err) {
      throw new UsageError(
        `uptime-worker: --identity ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  const probeOptions: ProbeOptions = {
    concurrency,
    // The library's warnings (a key file it cannot use, an unsupported ssh_config directive) reach
    // the operator; its routine info lines only with --verbose.
    logger: packageLogger(log),
    pool: keep > 0 ? { maxConnections: keep, idleTimeoutMs: keepIdleMs } : false,
    port,
    hostKeyPolicy,
    connectTimeoutMs: parseDuration("--connect-timeout", flags["connect-timeout"]),
    commandTimeoutMs: parseDuration("--command-timeout", flags["command-timeout"]),
    deadlineMs: parseDuration("--deadline", flags.deadline),
    retries: parseInteger("--retries", flags.retries, 0, 100),
    handshakeRetries: parseInteger("--handshake-retries", flags["handshake-retries"], 0, 100),
    perHostConcurrency: parseInteger("--per-host-concurrency", flags["per-host-concurrency"], 1, 10_000),
    ...(flags["no-agent"] ? { agent: false as const } : flags.agent ? { agent: flags.agent } : {}),
    ...(flags.user ? { username: parseText("--user", flags.user, 256) } : {}),
    ...(flags.identity.length > 0
      ? { identityFiles: flags.identity.map((f) => parseText("--identity", f, 4096)) }
      : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(flags["known-hosts"] ? { knownHosts: flags["known-hosts"] } : {}),
    ...(flags.command ? { command: parseText("--command", flags.command, LIMITS.command) } : {}),
    ...(flags["no-ssh-config"] ? { sshConfig: false as const } : {}),
    ...(flags["ssh-config"] ? { sshConfig: flags["ssh-config"] } : {}),
    ...(jump ? { jump } : {}),
  };
  const probe = createProbe(probeOptions);
  const link = new WorkerLink({
    dispatcher: parseEndpoint("--sender", flags.sender),
    sink: parseEndpoint("--sink", flags.sink),
    id,
    capacity: concurrency,
    logger: packageLogger(log),
    ...(curve ? { curve } : {}),
  });
  let everConnected = false;
  link.on("connected", () => {
    everConnected = true;
    log.debug(`connected to the sender at ${flags.sender}`);
  });
  link.on("disconnected", ({ reason, held }) => {
    // A sender leaves after every job; only a loss with tasks in hand is worth a warning.
    if (held > 0)
      log.warn(
        `lost the sender at ${flags.sender} (${reason}) with ${held} tasks in hand; reconnecting (it hands them out again if it does not hear back)`,
      );
    else log.info(`the sender at ${flags.sender} went away (${reason}); waiting for the next one`);
  });
  link.on("auth-error", ({ link: which, error }) =>
    log.error(`CURVE: the ${which} refused this worker: ${error.message}`),
  );
  // Never reached the sender: say so after 5 s, then every 5 minutes (a worker may well start long before its first job).
  let lastNotice = 0;
  const notice = setInterval(() => {
    if (everConnected || (lastNotice > 0 && Date.now() - lastNotice < NOTICE_EVERY_MS)) return;
    lastNotice = Date.now();
    log.warn(
      `no answer from the sender at ${flags.sender} yet; still trying (is uptime-sender running there?)`,
    );
  }, 5000);
  notice.unref();

  await link.start();
  log.info(
    `${id}: ${concurrency} slots, tasks from ${flags.sender}, results to ${flags.sink}${curve ? ", CURVE on" : ""}`,
  );

  await serveTasks(
    link,
    async (task, { slot }) => {
      if (flags.verbose) process.stdout.write(`Recieved Host: ${task.target}\n`);
      const r = task.command
        ? await probe.probe(task.target, { command: task.command })
        : await probe.probe(task.target);
      return toResult(task, r, id, slot);
    },
    {
      concurrency,
      signal,
      onError: (task, err) =>
        log.error(`task ${task.job}/${task.seq} (${task.target}): ${(err as Error).message}`),
    },
  );
  // Drained: what was running finished (each probe is bounded by its deadline); say goodbye, and
  // tasks received but not started go back to the sender's queue.
  clearInterval(notice);
  await link.close();
  await probe.close();
  return EXIT.ok;
}

async function curveOptions(flags: {
  "curve-secret"?: string | undefined;
  "sender-key"?: string | undefined;
  "sink-key"?: string | undefined;
}) {
  if (!flags["curve-secret"]) {
    if (flags["sender-key"] || flags["sink-key"])
      throw new UsageError("uptime-worker: --sender-key/--sink-key need --curve-secret");
    return undefined;
  }
  if (!flags["sender-key"] || !flags["sink-key"])
    throw new UsageError("uptime-worker: --curve-secret needs --sender-key and --sink-key");
  const pair = await readKeyPair(flags["curve-secret"]);
  return {
    ...pair,
    dispatcherKey: await publicKey("--sender-key", flags["sender-key"]),
    sinkKey: await publicKey("--sink-key", flags["sink-key"]),
  };
}

/** A Z85 public key given inline, or read from a .pub file; anything else is a usage error naming the flag. */
async function publicKey(flag: string, value: string): Promise<string> {
  if (isZ85Key(value)) return value;
  let text: string;
  try {
    text = (await readFile(value, "utf8")).trim();
  } catch (err) {
    throw new UsageError(
      `uptime-worker: ${flag}: cannot read public key file ${value}: ${(err as Error).message}`,
    );
  }
  if (!isZ85Key(text)) {
    throw new UsageError(`uptime-worker: ${flag}: ${value} does not hold a 40-character Z85 public key`);
  }
  return text;
}
