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
  parseWith,
  UsageError,
} from "@uptime/cli-kit";
import { LIMITS } from "@uptime/protocol";
import {
  Dispatcher,
  describeExposure,
  type Exposure,
  exposureWarning,
  type JobReport,
  parseTrustList,
  readAllowList,
  readKeyPair,
  writeKeyPair,
} from "@uptime/transport-zmq";
import { type Inventory, readHostList } from "./inventory.js";
import { planJob } from "./resume.js";
import { VERSION } from "./version.js";

const PROGRESS = ["auto", "bar", "plain", "off"] as const;

export const spec = {
  name: "uptime-sender",
  version: VERSION,
  summary: "reads a host list and hands the hosts to uptime workers, until every host has a result",
  usage: [
    "uptime-sender HOSTFILE [WATERMARK]",
    "uptime-sender - < hosts.txt",
    "uptime-sender -w 'web[01-12].dc1,@db' -x web07.dc1",
    "uptime-sender --rerun-failed results.ndjson --codes AUTH,CONNECT_TIMEOUT",
    "uptime-sender hosts.txt --resume",
    "uptime-sender hosts.txt --bind tcp://*:5557 --job nightly",
  ],
  flags: {
    hosts: {
      type: "string",
      short: "w",
      value: "HOSTS",
      multiple: true,
      description:
        "hosts as pdsh -w: a comma list with ranges and @groups (repeatable; with or instead of HOSTFILE)",
    },
    exclude: {
      type: "string",
      short: "x",
      value: "HOSTS",
      multiple: true,
      description:
        "leave these hosts out, as pdsh -x (ranges and @groups; without user/port: any user and port)",
    },
    "groups-file": {
      type: "string",
      value: "FILE",
      env: "UPTIME_GROUPS_FILE",
      description: "groups for @name, ClusterShell's simple format: one 'name: hosts...' per line",
    },
    "max-hosts": {
      type: "string",
      value: "N",
      env: "UPTIME_MAX_HOSTS",
      default: "1000000",
      description: "most hosts a range, a group or the whole host list may expand to",
    },
    "rerun-failed": {
      type: "string",
      value: "RESULTS",
      description:
        "only the hosts whose latest result in RESULTS (the sink's NDJSON or text output) is an error; with HOSTFILE or -w, only those of them",
    },
    codes: {
      type: "string",
      value: "CODES",
      description: "with --rerun-failed: only these error codes, comma-separated (AUTH,CONNECT_TIMEOUT)",
    },
    resume: {
      type: "boolean",
      description:
        "continue the unfinished job of this same host list and command (after a crash or Ctrl-C): same job id, only hosts without a stored result are sent",
    },
    state: {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_STATE",
      description:
        "the job's state file (receipted hosts, for --resume); 'off' for none (default: one per job in $XDG_STATE_HOME/uptime-sender, found by the digest of the host list and command)",
    },
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
    trust: {
      type: "string",
      value: "CIDR[,CIDR...]",
      env: "UPTIME_SENDER_TRUST",
      multiple: true,
      description:
        "networks workers may connect from (IPv4/IPv6 CIDR); default without CURVE: loopback only (127.0.0.0/8, ::1)",
    },
    "gen-key": GEN_KEY_FLAG,
    quiet: { type: "boolean", short: "q", env: "UPTIME_QUIET", description: "no progress and no summary" },
  },
  epilog: `HOSTFILE lines: host, user@host, host:port, user@[v6addr]:port, ranges (web[01-12].dc1,
node[1-3,7]) and @groups, or several of these separated by commas; blank lines and # comments are skipped; a
bad line is reported with its line number and the rest are still sent; a host seen twice is probed once.
"-" reads standard input. -w is the host list since 0.2 (it was the watermark: use --watermark N).

Exit codes: 0 every host has a result; 1 some hosts have none (abandoned after --max-attempts, or
cancelled), or with --fail-on-error some results are errors; 2 usage error, unreadable HOSTFILE or key file.`,
} as const;

type Flags = ParsedFlags<typeof spec.flags>;

export const main = cliMain(spec, run, { genKey: (path) => writeKeyPair(path) });

async function run({ flags, positionals }: CliRun<Flags>, { signal }: MainContext): Promise<number> {
  const [hostFile, watermarkArg, ...rest] = positionals;
  const hostsFlag = flags.hosts ?? [];
  if (!hostFile && hostsFlag.length === 0 && !flags["rerun-failed"])
    throw new UsageError(
      "uptime-sender: missing HOSTFILE (a path, or - for standard input), -w HOSTS or --rerun-failed RESULTS",
    );
  for (const w of hostsFlag)
    if (/^\d+$/.test(w))
      throw new UsageError(
        `uptime-sender: -w names hosts now, as in pdsh; for a watermark of ${w} use --watermark ${w}`,
      );
  if (flags.codes && !flags["rerun-failed"])
    throw new UsageError("uptime-sender: --codes goes with --rerun-failed");
  const maxHosts = parseInteger("--max-hosts", flags["max-hosts"], 1, Number.MAX_SAFE_INTEGER);
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
  const trust = parseWith(spec.name, () => parseTrustList(flags.trust, "--trust"));
  if (flags.job !== undefined && !/^[\w.:-]{1,64}$/.test(flags.job))
    throw new UsageError(
      `uptime-sender: job id "${flags.job}" must be 1-64 letters, digits, '.', ':', '_' or '-'`,
    );
  const log = createLogger(spec.name, { quiet: flags.quiet });

  const inventory = await readHostList({
    ...(hostFile ? { hostFile } : {}),
    hosts: hostsFlag,
    exclude: flags.exclude ?? [],
    ...(flags["groups-file"] ? { groupsFile: flags["groups-file"] } : {}),
    maxHosts,
    ...(flags["rerun-failed"] ? { rerunFailed: flags["rerun-failed"] } : {}),
    ...(flags.codes
      ? {
          codes: flags.codes
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean),
        }
      : {}),
  });
  for (const p of inventory.problems) log.warn(p);
  if (inventory.failedBefore !== undefined)
    log.info(
      `${count(inventory.failedBefore, "host")} failed in ${flags["rerun-failed"]}${flags.codes ? ` (${flags.codes})` : ""}`,
    );
  if (inventory.targets.length === 0) {
    log.error(`no hosts to probe${hostFile ? ` in ${hostFile}` : ""}`);
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
    ...(trust ? { trust } : {}),
  });
  await dispatcher.bind();
  reportExposure(log, dispatcher.exposure);
  // After bind: a second sender on the same port fails there first, naming the endpoint.
  const plan = await planJob({
    targets: inventory.targets,
    command,
    jobId: flags.job,
    resume: Boolean(flags.resume),
    state: flags.state,
    newId: () => randomUUID().slice(0, 8),
  }).catch(async (err: unknown) => {
    await dispatcher.close();
    throw err;
  });
  for (const n of plan.notes) log.info(n);
  const jobId = plan.jobId;
  dispatcher.on("worker-joined", (w) => log.info(`worker ${w.worker} joined (${w.capacity} slots)`));
  dispatcher.on("worker-lost", (w) => {
    const requeued = w.requeued ? `; ${w.requeued} of its hosts go back to the queue` : "";
    if (w.reason === "bye") log.info(`worker ${w.worker} left${requeued}`);
    else log.warn(`worker ${w.worker} lost (${w.reason})${requeued}`);
  });
  dispatcher.on("receipted", (r) => plan.journal?.record(r.seqs, r.failed));
  const job = dispatcher.runJob({
    id: jobId,
    targets: inventory.targets,
    ...(command ? { command } : {}),
    ...(plan.stored ? { stored: plan.stored } : {}),
  });
  log.info(
    `job ${jobId}: ${count(job.total, "host")}${hostListNotes(inventory)}, waiting for workers on ${flags.bind}${curve ? " (CURVE)" : ""}`,
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
    plan.journal?.close(job.progress().receipted === job.total);
  }
  if (show) progress.finish(state());
  await dispatcher.close();

  if (!flags.quiet) {
    const secs = report.durationMs / 1000;
    process.stderr.write(
      `job ${report.id}: ${count(report.total, "host")}, ${count(report.receipted, "result")} (${report.receipted - report.failed} ok, ${report.failed} failed)` +
        `${report.abandoned.length ? `, ${report.abandoned.length} abandoned` : ""}${report.cancelled ? ", cancelled" : ""}` +
        `${inventory.duplicates ? `, ${count(inventory.duplicates, "duplicate")} merged` : ""}` +
        ` in ${secs.toFixed(1)}s (${(report.receipted / Math.max(secs, 0.001)).toFixed(0)} hosts/s)\n`,
    );
    for (const a of report.abandoned.slice(0, 20))
      log.warn(`no result for ${a.target} after ${maxAttempts} attempts`);
  }
  // Hosts without a receipt: never probed, or probed and not (yet) durably stored by the sink.
  const unstored = report.total - report.receipted - report.abandoned.length;
  if (unstored > 0) log.warn(`${count(unstored, "host")} not stored by the sink (no receipt)`);
  if (report.cancelled || report.abandoned.length > 0 || report.receipted < report.total) return EXIT.failed;
  if (flags["fail-on-error"] && report.failed > 0) return EXIT.failed;
  return EXIT.ok;
}

/** Says at start-up what this sender exposes; loudly when it admits other machines in plain text. */
function reportExposure(log: { info(m: string): void; warn(m: string): void }, e: Exposure): void {
  log.info(`tasks on ${describeExposure(e)}`);
  const warning = exposureWarning(e, "take tasks and send receipts");
  if (warning) log.warn(warning);
}

/** ` (3 bad lines skipped, 2 duplicates merged, 4 excluded)` for the start line. */
function hostListNotes(inv: Inventory): string {
  const notes = [
    inv.problems.length ? `${count(inv.problems.length, "bad line")} skipped` : "",
    inv.duplicates ? `${count(inv.duplicates, "duplicate")} merged` : "",
    inv.excluded ? `${inv.excluded} excluded` : "",
  ].filter(Boolean);
  return notes.length ? ` (${notes.join(", ")})` : "";
}
