import { randomUUID } from "node:crypto";
import {
  type CliRun,
  cliMain,
  count,
  createLogger,
  createProgress,
  EXIT,
  type MainContext,
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
import { type Flags, PROGRESS, spec } from "./flags.js";
import { type Inventory, readHostList } from "./inventory.js";
import { planJob } from "./resume.js";

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
