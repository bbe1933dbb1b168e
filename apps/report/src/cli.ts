import { writeFile } from "node:fs/promises";
import {
  type CliRun,
  cliMain,
  createLogger,
  EXIT,
  type MainContext,
  type ParsedFlags,
  parseInteger,
  parseWith,
  UsageError,
} from "@uptime/cli-kit";
import {
  analyzeRuns,
  FAIL_IF_CATEGORIES,
  type FailIfCategory,
  formatReportText,
  matchedCategories,
  type Run,
  readRunFile,
  renderHtml,
  requireSpan,
  safeText,
} from "@uptime/report-core";
import { VERSION } from "./version.js";

export const spec = {
  name: "uptime-report",
  version: VERSION,
  summary: "reads NDJSON results of one or more runs: summary, reboots, uptime policy, failures",
  usage: [
    "uptime-report RESULTS.ndjson... [options]   (oldest run first)",
    "uptime-report monday.ndjson tuesday.ndjson --max-uptime 90d --html report.html",
    "uptime-report last.ndjson today.ndjson --fail-if rebooted,failed --json",
  ],
  flags: {
    json: {
      type: "boolean",
      env: "UPTIME_REPORT_JSON",
      description: "print the report as JSON on stdout instead of the terminal summary",
    },
    html: {
      type: "string",
      value: "FILE",
      env: "UPTIME_REPORT_HTML",
      description: "also write the report as one self-contained HTML page (works offline)",
    },
    "max-uptime": {
      type: "string",
      value: "SPAN",
      env: "UPTIME_REPORT_MAX_UPTIME",
      description: "uptime policy: hosts up longer than SPAN (90d, 12h, 2w, seconds) are over policy",
    },
    "clock-skew": {
      type: "string",
      value: "SPAN",
      env: "UPTIME_REPORT_CLOCK_SKEW",
      default: "120s",
      description:
        "clock skew allowed, added to the boot time precision before a moved boot time is a reboot",
    },
    "fail-if": {
      type: "string",
      value: "LIST",
      env: "UPTIME_REPORT_FAIL_IF",
      description: `exit 1 when any host is in one of these (comma list): ${FAIL_IF_CATEGORIES.join(", ")}`,
    },
    limit: {
      type: "string",
      value: "N",
      default: "10",
      description: "hosts listed per category in the terminal summary",
    },
    title: {
      type: "string",
      value: "TEXT",
      default: "uptime report",
      description: "title of the HTML page",
    },
    quiet: {
      type: "boolean",
      short: "q",
      env: "UPTIME_REPORT_QUIET",
      description: "print no summary (with --html or --fail-if)",
    },
  },
  epilog: `Each file is one run: NDJSON as 'uptime-sink --record FILE' (or --format ndjson) writes it.
Within a file the latest result per host wins (a file may hold several jobs). The newest run is
summarised and compared with the one before it: rebooted (boot time moved later than its precision
plus --clock-skew; checked against the host's latest earlier ok result), newly failing, recovered,
missing. Malformed lines are skipped with a 'file:LINE:' warning on stderr.

Exit codes: 0 ok, 1 a --fail-if category has hosts (or a runtime error), 2 usage error or an
unreadable file.`,
} as const;

type Flags = ParsedFlags<typeof spec.flags>;

export const main = cliMain(spec, run);

/** A span flag (90d, 12h, ...) in seconds, or a usage error naming it. */
function spanFlag(name: string, raw: string): number {
  return parseWith(spec.name, () => requireSpan(name, raw));
}

function failIfFlag(raw: string | undefined): FailIfCategory[] {
  if (raw === undefined || raw.trim() === "") return [];
  const out: FailIfCategory[] = [];
  for (const part of raw.split(",")) {
    const c = part.trim();
    if (!(FAIL_IF_CATEGORIES as readonly string[]).includes(c))
      throw new UsageError(`--fail-if: "${c}" is not one of ${FAIL_IF_CATEGORIES.join(", ")}`);
    if (!out.includes(c as FailIfCategory)) out.push(c as FailIfCategory);
  }
  return out;
}

async function run({ flags, positionals }: CliRun<Flags>, _ctx: MainContext): Promise<number> {
  const log = createLogger(spec.name);
  if (positionals.length === 0)
    throw new UsageError("uptime-report: expected one or more NDJSON result files");
  const maxUptimeS = flags["max-uptime"] ? spanFlag("--max-uptime", flags["max-uptime"]) : undefined;
  const clockSkewS = spanFlag("--clock-skew", flags["clock-skew"]);
  const failIf = failIfFlag(flags["fail-if"]);
  if (failIf.includes("over-policy") && maxUptimeS === undefined)
    throw new UsageError("--fail-if over-policy needs --max-uptime");
  const limit = parseInteger("--limit", flags.limit, 0);

  const runs: Run[] = [];
  for (const file of positionals) {
    try {
      runs.push(
        await readRunFile(file, (p) =>
          log.warn(`${safeText(p.source)}:${p.line}: ${p.reason}; line skipped`),
        ),
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(`uptime-report: cannot read ${safeText(file)}: ${e.code ?? e.message}`);
    }
  }
  for (const r of runs)
    if (r.hosts.size === 0) log.warn(`${safeText(r.source)}: no results (${r.lines} lines)`);

  const report = analyzeRuns(runs, { clockSkewS, ...(maxUptimeS !== undefined ? { maxUptimeS } : {}) });
  if (flags.html) {
    await writeFile(flags.html, renderHtml(report, runs, { title: flags.title }));
    log.info(`report written to ${safeText(flags.html)}`);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!flags.quiet) process.stdout.write(formatReportText(report, { limit }));

  const matched = matchedCategories(report, failIf);
  if (matched.length > 0) {
    log.warn(`--fail-if: ${matched.map((m) => `${m.category} ${m.count}`).join(", ")}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
