import type {
  AnalyzeOptions,
  Bucket,
  Failure,
  HostRecord,
  OverPolicy,
  Reboot,
  Report,
  Run,
} from "./types.js";

/** Default clock-skew allowance, seconds. */
export const DEFAULT_CLOCK_SKEW_S = 120;

const DAY = 86_400;

/** Code unit order: fast and the same everywhere (localeCompare costs ICU time per pair at 100,000 hosts). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
/** The uptime distribution's buckets (the sink's summary uses the same): label and upper bound in seconds. */
export const UPTIME_BUCKETS: readonly (readonly [string, number])[] = [
  ["< 1 day", DAY],
  ["1-7 days", 7 * DAY],
  ["7-30 days", 30 * DAY],
  ["30-90 days", 90 * DAY],
  ["90-365 days", 365 * DAY],
  ["> 1 year", Number.POSITIVE_INFINITY],
];

/** Index into {@link UPTIME_BUCKETS} for an uptime in seconds. */
export function bucketOf(seconds: number): number {
  return UPTIME_BUCKETS.findIndex(([, max]) => seconds < max);
}

/**
 * Seconds a boot time may move later without meaning a reboot: the coarser precision of the two
 * observations plus the clock-skew allowance. Two probes of a minute-precision host a minute apart
 * give boot times up to 60 s apart, which stays inside.
 */
export function rebootTolerance(a: HostRecord, b: HostRecord, clockSkewS: number): number {
  return Math.max(a.bootPrecisionS ?? 0, b.bootPrecisionS ?? 0) + clockSkewS;
}

/**
 * The report of runs given oldest first: the newest run's summary, and what changed since the
 * run before it. A reboot is judged against the host's latest earlier ok result (any earlier run),
 * so a host that failed in between is still caught; newly failing, recovered and missing compare the
 * newest run with the one before it.
 *
 * @example
 * const report = analyzeRuns([readRun("mon", mon), readRun("tue", tue)], { maxUptimeS: 90 * 86400 });
 * report.rebooted.map((r) => r.target);
 */
export function analyzeRuns(runs: readonly Run[], options: AnalyzeOptions = {}): Report {
  const clockSkewS = options.clockSkewS ?? DEFAULT_CLOCK_SKEW_S;
  if (!(clockSkewS >= 0)) throw new TypeError(`clockSkewS must be a number >= 0, got ${clockSkewS}`);
  const maxUptimeS = options.maxUptimeS;
  if (maxUptimeS !== undefined && !(maxUptimeS >= 0))
    throw new TypeError(`maxUptimeS must be a number >= 0, got ${maxUptimeS}`);
  const newest = runs.at(-1);
  const previous = runs.length >= 2 ? runs.at(-2) : undefined;
  const report: Report = {
    runs: runs.map((r) => ({
      source: r.source,
      jobs: r.jobs,
      hosts: r.hosts.size,
      malformed: r.malformed,
      ...(r.firstAt !== undefined ? { firstAt: r.firstAt, lastAt: r.lastAt } : {}),
    })),
    ...(maxUptimeS !== undefined ? { maxUptimeS } : {}),
    clockSkewS,
    summary: { total: 0, ok: 0, failed: 0, noUptime: 0, failuresByCode: [], uptime: [] },
    compared: previous !== undefined,
    rebooted: [],
    overPolicy: [],
    failed: [],
    newlyFailing: [],
    recovered: [],
    missing: [],
    added: 0,
  };
  const counts = UPTIME_BUCKETS.map(() => 0);
  const byCode = new Map<string, number>();
  if (newest) {
    for (const h of newest.hosts.values()) {
      report.summary.total++;
      const before = previous?.hosts.get(h.target);
      if (previous && !before) report.added++;
      if (!h.ok) {
        report.summary.failed++;
        byCode.set(h.errorCode!, (byCode.get(h.errorCode!) ?? 0) + 1);
        const f: Failure = { target: h.target, code: h.errorCode!, message: h.errorMessage ?? "", at: h.at };
        report.failed.push(f);
        if (before?.ok) report.newlyFailing.push(f);
        continue;
      }
      report.summary.ok++;
      if (before && !before.ok)
        report.recovered.push({
          target: h.target,
          previousCode: before.errorCode!,
          ...(h.uptimeSeconds !== undefined ? { uptimeSeconds: h.uptimeSeconds } : {}),
        });
      if (h.uptimeSeconds === undefined) {
        report.summary.noUptime++;
        continue;
      }
      const i = bucketOf(h.uptimeSeconds);
      counts[i] = (counts[i] ?? 0) + 1;
      if (maxUptimeS !== undefined && h.uptimeSeconds > maxUptimeS) report.overPolicy.push(overPolicyOf(h));
      const reboot = rebootOf(h, runs, clockSkewS);
      if (reboot) report.rebooted.push(reboot);
    }
    if (previous)
      for (const p of previous.hosts.values())
        if (!newest.hosts.has(p.target))
          report.missing.push({ target: p.target, lastAt: p.at, lastOk: p.ok });
  }
  report.summary.failuresByCode = [...byCode]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || compareText(a.code, b.code));
  report.summary.uptime = UPTIME_BUCKETS.map(
    ([label, max], i): Bucket => ({ label, maxS: Number.isFinite(max) ? max : null, count: counts[i] ?? 0 }),
  );
  report.rebooted.sort((a, b) => b.bootedAt - a.bootedAt || compareText(a.target, b.target));
  report.overPolicy.sort((a, b) => b.uptimeSeconds - a.uptimeSeconds || compareText(a.target, b.target));
  report.failed.sort((a, b) => compareText(a.code, b.code) || compareText(a.target, b.target));
  report.newlyFailing.sort((a, b) => compareText(a.code, b.code) || compareText(a.target, b.target));
  report.recovered.sort((a, b) => compareText(a.target, b.target));
  report.missing.sort((a, b) => compareText(a.target, b.target));
  return report;
}

function overPolicyOf(h: HostRecord): OverPolicy {
  return {
    target: h.target,
    uptimeSeconds: h.uptimeSeconds!,
    ...(h.uptimeText !== undefined ? { uptimeText: h.uptimeText } : {}),
    ...(h.bootedAt !== undefined ? { bootedAt: h.bootedAt } : {}),
  };
}

/** The reboot of `h` (from the newest run) since its latest earlier ok result with a boot time, if any. */
function rebootOf(h: HostRecord, runs: readonly Run[], clockSkewS: number): Reboot | undefined {
  if (h.bootedAt === undefined) return undefined;
  for (let i = runs.length - 2; i >= 0; i--) {
    const before = runs[i]!.hosts.get(h.target);
    if (!before?.ok || before.bootedAt === undefined) continue;
    const toleranceS = rebootTolerance(before, h, clockSkewS);
    const movedS = (h.bootedAt - before.bootedAt) / 1000;
    if (movedS <= toleranceS) return undefined;
    return {
      target: h.target,
      previousBootedAt: before.bootedAt,
      bootedAt: h.bootedAt,
      previousAt: before.at,
      at: h.at,
      movedS,
      toleranceS,
      uptimeSeconds: h.uptimeSeconds!,
    };
  }
  return undefined;
}

/** The categories `--fail-if` can name, and how many hosts of a report fall in each. */
export const FAIL_IF_CATEGORIES = ["rebooted", "over-policy", "failed", "newly-failing", "missing"] as const;
export type FailIfCategory = (typeof FAIL_IF_CATEGORIES)[number];

/** How many hosts of `report` are in `category`. */
export function countCategory(report: Report, category: FailIfCategory): number {
  switch (category) {
    case "rebooted":
      return report.rebooted.length;
    case "over-policy":
      return report.overPolicy.length;
    case "failed":
      return report.failed.length;
    case "newly-failing":
      return report.newlyFailing.length;
    case "missing":
      return report.missing.length;
  }
}
