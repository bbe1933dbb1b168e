import {
  type CliRun,
  cliMain,
  count,
  createLogger,
  EXIT,
  GEN_KEY_FLAG,
  type MainContext,
  type ParsedFlags,
  packageLogger,
  parseChoice,
  parseEndpoint,
  parseWith,
  UsageError,
} from "@uptime/cli-kit";
import type { Result } from "@uptime/protocol";
import { requireSpan } from "@uptime/report-core";
import { OUTPUT_FORMATS, type OutputFormat, SinkStore } from "@uptime/sink-store";
import {
  Collector,
  describeExposure,
  type Exposure,
  exposureWarning,
  parseTrustList,
  readAllowList,
  readKeyPair,
  writeKeyPair,
} from "@uptime/transport-zmq";
import { JobReporter, type JobReportOptions } from "./job-report.js";
import { JobSummary } from "./summary.js";
import { VERSION } from "./version.js";

export const spec = {
  name: "uptime-sink",
  version: VERSION,
  summary: "collects uptime results from workers, prints them and stores each exactly once",
  usage: ["uptime-sink [OUTFILE] [options]", "uptime-sink results.txt --format ndjson --bind tcp://*:5558"],
  flags: {
    bind: {
      type: "string",
      short: "b",
      value: "ENDPOINT",
      env: "UPTIME_SINK_BIND",
      default: "tcp://*:5558",
      description: "where workers send results",
    },
    format: {
      type: "string",
      short: "f",
      value: "FORMAT",
      env: "UPTIME_SINK_FORMAT",
      default: "text",
      description: "output format: text (the original's lines), ndjson or csv",
    },
    record: {
      type: "string",
      value: "FILE",
      env: "UPTIME_SINK_RECORD",
      description: "also append every result to FILE as NDJSON (history, whatever --format prints)",
    },
    report: {
      type: "string",
      value: "FILE",
      env: "UPTIME_SINK_REPORT",
      description:
        "at the end of each job, write uptime-report's HTML page for it to FILE (needs --record, or --format ndjson with OUTFILE)",
    },
    "max-uptime": {
      type: "string",
      value: "SPAN",
      env: "UPTIME_SINK_MAX_UPTIME",
      description: "with --report: uptime policy (90d, 12h, 2w); hosts up longer are over policy",
    },
    "clock-skew": {
      type: "string",
      value: "SPAN",
      env: "UPTIME_SINK_CLOCK_SKEW",
      default: "120s",
      description: "with --report: clock skew allowed before a moved boot time is a reboot",
    },
    quiet: {
      type: "boolean",
      short: "q",
      env: "UPTIME_SINK_QUIET",
      description: "do not print results to standard output (OUTFILE only)",
    },
    "no-fsync": {
      type: "boolean",
      env: "UPTIME_SINK_NO_FSYNC",
      description: "do not fsync before sending receipts (faster, not crash-safe)",
    },
    "exit-after-job": {
      type: "boolean",
      env: "UPTIME_SINK_EXIT_AFTER_JOB",
      description: "exit after the first job has ended",
    },
    "curve-secret": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SINK_CURVE_SECRET",
      description: "CURVE key pair of this sink (make one with --gen-key); enables CURVE",
    },
    "curve-allow": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SINK_CURVE_ALLOW",
      description: "allow-list of worker public keys, one per line (required with --curve-secret)",
    },
    trust: {
      type: "string",
      value: "CIDR[,CIDR...]",
      env: "UPTIME_SINK_TRUST",
      multiple: true,
      description:
        "networks workers may connect from (IPv4/IPv6 CIDR); default without CURVE: loopback only (127.0.0.0/8, ::1)",
    },
    "gen-key": GEN_KEY_FLAG,
    verbose: {
      type: "boolean",
      short: "v",
      env: "UPTIME_VERBOSE",
      description: "log every rejected frame and duplicate",
    },
  },
  epilog: `Output: one line per host, "worker_id: W_SLOT, host: H, result: 65 days, 17:07" or
"..., error: CODE "message"" (host-controlled text escaped; see the README for the grammar).
OUTFILE is appended to, with a journal beside it (OUTFILE.journal) so a restarted sink neither loses
nor repeats a result. While the disk is full, results wait in memory and no receipts are sent;
writing resumes when space returns. Summaries go to standard error.

Exit codes: 0 ok, 1 runtime error, 2 usage error.`,
} as const;

type Flags = ParsedFlags<typeof spec.flags>;

export const main = cliMain(spec, run, { genKey: (path) => writeKeyPair(path) });

async function run({ flags, positionals }: CliRun<Flags>, { signal }: MainContext): Promise<number> {
  if (positionals.length > 1)
    throw new UsageError(`uptime-sink: expected at most one OUTFILE, got ${positionals.length} arguments`);
  const format: OutputFormat = parseChoice("--format", flags.format, OUTPUT_FORMATS);
  if (Boolean(flags["curve-secret"]) !== Boolean(flags["curve-allow"])) {
    throw new UsageError("uptime-sink: --curve-secret and --curve-allow go together");
  }
  const log = createLogger(spec.name, { verbose: flags.verbose });
  const trust = parseWith(spec.name, () => parseTrustList(flags.trust, "--trust"));
  const outFile = positionals[0];
  const curve = flags["curve-secret"]
    ? {
        ...(await readKeyPair(flags["curve-secret"])),
        allow: await readAllowList(flags["curve-allow"] as string),
      }
    : undefined;

  const recordFile = flags.record;
  if (recordFile !== undefined && recordFile === outFile)
    throw new UsageError(`uptime-sink: --record ${recordFile} is the OUTFILE too; name another file`);
  const reporter = reportOption(flags, format, outFile, recordFile, log);
  const store = await SinkStore.open({
    format,
    print: !flags.quiet,
    fsync: !flags["no-fsync"],
    warn: log.warn,
    error: log.error,
    ...(outFile ? { outFile } : {}),
    ...(recordFile ? { recordFile } : {}),
  });
  const summaries = new Map<string, JobSummary>();
  const summaryOf = (job: string) => {
    let s = summaries.get(job);
    if (!s) {
      s = new JobSummary(job);
      summaries.set(job, s);
    }
    return s;
  };
  let finished: () => void = () => {};
  const jobEnded = new Promise<void>((resolve) => {
    finished = resolve;
  });

  const collector = new Collector({
    endpoint: parseEndpoint("--bind", flags.bind, { bind: true }),
    store: {
      has: (job, seq) => store.has(job, seq),
      write: async (results: Result[]) => {
        for (const r of await store.writeFresh(results)) summaryOf(r.job).add(r);
      },
    },
    logger: packageLogger(log),
    ...(curve ? { curve } : {}),
    ...(trust ? { trust } : {}),
  });
  collector.on("job-start", (m: { job: string; total: number }) => {
    const s = summaryOf(m.job);
    if (s.total === undefined) log.info(`job ${m.job} started: ${count(m.total, "host")}`);
    s.total = m.total;
  });
  collector.on("job-end", (m: { job: string; total: number; cancelled: boolean }) => {
    const s = summaryOf(m.job);
    s.total = m.total;
    process.stderr.write(`${m.cancelled ? "(cancelled) " : ""}${s.format()}`);
    const reported = reporter?.write(m.job);
    if (flags["exit-after-job"]) void (reported ?? Promise.resolve()).then(finished);
  });

  await collector.bind();
  reportExposure(log, collector.exposure);
  log.info(
    `listening on ${flags.bind}${outFile ? `, storing to ${outFile} (${format})` : ` (${format} to stdout)`}${recordFile ? `, recording to ${recordFile} (ndjson)` : ""}${curve ? ", CURVE on" : ""}`,
  );
  await Promise.race([
    jobEnded,
    new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
  ]);
  // Results waiting for a full disk are given up now (they have no receipt: the sender still
  // counts them as unstored); what can be written still is, and receipted.
  store.stopRetrying();
  await collector.close();
  await store.close();
  const m = collector.metrics();
  if (m.rejects.total > 0) log.warn(`${count(m.rejects.total, "malformed or unauthorised frame")} rejected`);
  const { unstored } = store.metrics();
  if (unstored > 0) {
    log.error(
      `${count(unstored, "result")} could not be stored and got no receipt; the sender counts those hosts as unstored`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}

/** The `--report` writer, or undefined; a usage error when there is no NDJSON history to read. */
function reportOption(
  flags: Flags,
  format: OutputFormat,
  outFile: string | undefined,
  recordFile: string | undefined,
  log: JobReportOptions["log"],
): JobReporter | undefined {
  const span = (name: string, raw: string) => parseWith(spec.name, () => requireSpan(name, raw));
  const clockSkewS = span("--clock-skew", flags["clock-skew"]);
  const maxUptimeS =
    flags["max-uptime"] === undefined ? undefined : span("--max-uptime", flags["max-uptime"]);
  if (flags.report === undefined) {
    if (maxUptimeS !== undefined) throw new UsageError("uptime-sink: --max-uptime goes with --report");
    return undefined;
  }
  const record = recordFile ?? (format === "ndjson" ? outFile : undefined);
  if (record === undefined)
    throw new UsageError(
      "uptime-sink: --report reads the NDJSON history: give --record FILE (or --format ndjson with an OUTFILE)",
    );
  if (flags.report === record || flags.report === outFile)
    throw new UsageError(`uptime-sink: --report ${flags.report} is a results file too; name another file`);
  return new JobReporter({
    record,
    html: flags.report,
    clockSkewS,
    log,
    ...(maxUptimeS !== undefined ? { maxUptimeS } : {}),
  });
}

/** Says at start-up what this sink exposes; loudly when it admits other machines in plain text. */
function reportExposure(log: { info(m: string): void; warn(m: string): void }, e: Exposure): void {
  log.info(`results on ${describeExposure(e)}`);
  const warning = exposureWarning(e, "send results and read receipts");
  if (warning) log.warn(warning);
}
