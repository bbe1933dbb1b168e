import { randomUUID } from "node:crypto";
import {
  type CliRun,
  cliMain,
  count,
  createLogger,
  createProgress,
  EXIT,
  GEN_KEY_FLAG,
  type MainContext,
  type ParsedFlags,
  packageLogger,
  parseChoice,
  parseDuration,
  parseEndpoint,
  parseInteger,
  parseText,
  UsageError,
} from "@uptime/cli-kit";
import { LIMITS } from "@uptime/protocol";
import { Dispatcher, type JobReport, readAllowList, readKeyPair, writeKeyPair } from "@uptime/transport-zmq";
import { readInventory } from "./inventory.js";
import { VERSION } from "./version.js";

const PROGRESS = ["auto", "bar", "plain", "off"] as const;

export const spec = {
  name: "uptime-sender",
  version: VERSION,
  summary: "reads a host list and hands the hosts to uptime workers, until every host has a result",
  usage: [
    "uptime-sender HOSTFILE [WATERMARK]",
    "uptime-sender - < hosts.txt",
    "uptime-sender hosts.txt --bind tcp://*:5557 --job nightly",
  ],
  flags: {
    bind: {
      type: "string",
      short: "b",
      value: "ENDPOINT",
      env: "UPTIME_SENDER_BIND",
      default: "tcp://*:5557",
      description: "where workers connect for tasks",
    },
    job: {
      type: "string",
      short: "j",
      value: "ID",
      env: "UPTIME_JOB",
      description: "job id (default: a new random id)",
    },
    command: {
      type: "string",
      value: "CMD",
      env: "UPTIME_COMMAND",
      description: "command for workers to run instead of uptime",
    },
    watermark: {
      type: "string",
      short: "w",
      value: "N",
      env: "UPTIME_WATERMARK",
      description:
        "most tasks out at once over all workers (the original's watermark; default: no limit but the workers' credit)",
    },
    "max-attempts": {
      type: "string",
      value: "N",
      env: "UPTIME_MAX_ATTEMPTS",
      default: "3",
      description: "tries per host when workers die holding it",
    },
    "heartbeat-interval": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_HEARTBEAT_INTERVAL",
      default: "1s",
      description: "heartbeat period",
    },
    "heartbeat-timeout": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_HEARTBEAT_TIMEOUT",
      default: "5s",
      description: "silence after which a worker counts as dead and its hosts go to others",
    },
    progress: {
      type: "string",
      value: "MODE",
      env: "UPTIME_PROGRESS",
      default: "auto",
      description: "auto (bar on a terminal, plain lines otherwise), bar, plain or off",
    },
    "fail-on-error": {
      type: "boolean",
      env: "UPTIME_FAIL_ON_ERROR",
      description: "exit 1 when any host's result is an error",
    },
    "curve-secret": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_CURVE_SECRET",
      description: "CURVE key pair of this sender; enables CURVE",
    },
    "curve-allow": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_CURVE_ALLOW",
      description: "allow-list of worker public keys (required with --curve-secret)",
    },
    "gen-key": GEN_KEY_FLAG,
    quiet: { type: "boolean", short: "q", env: "UPTIME_QUIET", description: "no progress and no summary" },
  },
  epilog: `HOSTFILE lines: host, user@host, host:port, user@[v6addr]:port; blank lines and # comments are
skipped; a bad line is reported with its line number and the rest are still sent. "-" reads standard input.

Exit codes: 0 every host has a result; 1 some hosts have none (abandoned after --max-attempts, or
cancelled), or with --fail-on-error some results are errors; 2 usage error, unreadable HOSTFILE or key file.`,
} as const;

type Flags = ParsedFlags<typeof spec.flags>;

export const main = cliMain(spec, run, { genKey: (path) => writeKeyPair(path) });

async function run({ flags, positionals }: CliRun<Flags>, { signal }: MainContext): Promise<number> {
  const [hostFile, watermarkArg, ...rest] = positionals;
  if (!hostFile) throw new UsageError("uptime-sender: missing HOSTFILE (a path, or - for standard input)");
  if (rest.length > 0) throw new UsageError(`uptime-sender: unexpected arguments: ${rest.join(" ")}`);
  const watermark = watermarkArg ?? flags.watermark;
  const maxInFlight =
    watermark === undefined
      ? undefined
      : parseInteger(watermarkArg === undefined ? "--watermark" : "WATERMARK", watermark, 1);
  const maxAttempts = parseInteger("--max-attempts", flags["max-attempts"], 1, 1000);
  const heartbeatIntervalMs = parseDuration("--heartbeat-interval", flags["heartbeat-interval"]);
  const heartbeatTimeoutMs = parseDuration("--heartbeat-timeout", flags["heartbeat-timeout"]);
  const progressMode = parseChoice("--progress", flags.progress, PROGRESS);
  const command = flags.command ? parseText("--command", flags.command, LIMITS.command) : undefined;
  if (Boolean(flags["curve-secret"]) !== Boolean(flags["curve-allow"])) {
    throw new UsageError("uptime-sender: --curve-secret and --curve-allow go together");
  }
  const jobId = flags.job ?? randomUUID().slice(0, 8);
  if (!/^[\w.:-]{1,64}$/.test(jobId))
    throw new UsageError(
      `uptime-sender: job id "${jobId}" must be 1-64 letters, digits, '.', ':', '_' or '-'`,
    );
  const log = createLogger(spec.name, { quiet: flags.quiet });

  const inventory = await readInventory(hostFile);
  for (const p of inventory.problems) log.warn(p);
  if (inventory.targets.length === 0) {
    log.error(`no hosts to probe in ${hostFile}`);
    return EXIT.failed;
  }
  const curve = flags["curve-secret"]
    ? {
        ...(await readKeyPair(flags["curve-secret"])),
        allow: await readAllowList(flags["curve-allow"] as string),
      }
    : undefined;

  const dispatcher = new Dispatcher({
    endpoint: parseEndpoint("--bind", flags.bind, { bind: true }),
    maxAttempts,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    logger: packageLogger(log),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
    ...(curve ? { curve } : {}),
  });
  await dispatcher.bind();
  dispatcher.on("worker-joined", (w) => log.info(`worker ${w.worker} joined (${w.capacity} slots)`));
  dispatcher.on("worker-lost", (w) => {
    const requeued = w.requeued ? `; ${w.requeued} of its hosts go back to the queue` : "";
    if (w.reason === "bye") log.info(`worker ${w.worker} left${requeued}`);
    else log.warn(`worker ${w.worker} lost (${w.reason})${requeued}`);
  });
  const job = dispatcher.runJob({
    id: jobId,
    targets: inventory.targets,
    ...(command ? { command } : {}),
  });
  log.info(
    `job ${jobId}: ${count(job.total, "host")}${inventory.problems.length ? ` (${count(inventory.problems.length, "bad line")} skipped)` : ""}, waiting for workers on ${flags.bind}${curve ? " (CURVE)" : ""}`,
  );
  const onAbort = () => dispatcher.cancel(jobId, "sender interrupted");
  signal.addEventListener("abort", onAbort, { once: true });

  const show = !flags.quiet && progressMode !== "off";
  const progress = createProgress(
    `job ${jobId}`,
    progressMode === "auto" ? {} : { tty: progressMode === "bar" },
  );
  const state = () => {
    const p = job.progress();
    const m = dispatcher.metrics();
    return {
      done: p.receipted,
      total: p.total,
      failed: p.failed,
      extra: `workers ${m.workers}, in flight ${p.inFlight}`,
    };
  };
  const timer = show ? setInterval(() => progress.update(state()), 100) : undefined;
  let report: JobReport;
  try {
    report = await job.done;
  } finally {
    if (timer) clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
  }
  if (show) progress.finish(state());
  await dispatcher.close();

  if (!flags.quiet) {
    const secs = report.durationMs / 1000;
    process.stderr.write(
      `job ${report.id}: ${count(report.total, "host")}, ${count(report.receipted, "result")} (${report.receipted - report.failed} ok, ${report.failed} failed)` +
        `${report.abandoned.length ? `, ${report.abandoned.length} abandoned` : ""}${report.cancelled ? ", cancelled" : ""}` +
        ` in ${secs.toFixed(1)}s (${(report.receipted / Math.max(secs, 0.001)).toFixed(0)} hosts/s)\n`,
    );
    for (const a of report.abandoned.slice(0, 20))
      log.warn(`no result for ${a.target} after ${maxAttempts} attempts`);
  }
  if (report.cancelled || report.abandoned.length > 0 || report.receipted < report.total) return EXIT.failed;
  if (flags["fail-on-error"] && report.failed > 0) return EXIT.failed;
  return EXIT.ok;
}
