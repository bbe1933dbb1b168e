import { escapeText, hasUnsafeText } from "@uptime/protocol";
import { countCategory, type FailIfCategory } from "./analyze.js";
import { formatSpan, formatTime } from "./span.js";
import type { Report } from "./types.js";

/**
 * `s` safe to print on a terminal: the protocol's `escapeText` (control characters, line breaks,
 * bidi overrides and bytes that were not UTF-8 shown as `\xHH`/`\uHHHH`, `\` as `\\`), so a
 * host-controlled string cannot move the cursor, recolour the terminal or reorder what follows it.
 */
export function safeText(s: string): string {
  return hasUnsafeText(s) ? escapeText(s) : s;
}

/** What {@link formatReportText} prints. */
export interface TextOptions {
  /**
   * Hosts listed per category; the rest are counted.
   * @default 10
   */
  limit?: number;
}

/** The report as terminal text: the newest run's summary, then what changed since the previous run. */
export function formatReportText(report: Report, options: TextOptions = {}): string {
  const limit = options.limit ?? 10;
  const out: string[] = [];
  const s = report.summary;
  for (const [i, r] of report.runs.entries()) {
    const jobs = r.jobs.length
      ? `, job${r.jobs.length > 1 ? "s" : ""} ${r.jobs.map(safeText).join(", ")}`
      : "";
    const when = r.firstAt !== undefined ? `, ${formatTime(r.firstAt)}` : "";
    const bad = r.malformed ? `, ${r.malformed} malformed line${r.malformed === 1 ? "" : "s"} skipped` : "";
    out.push(`run ${i + 1}: ${safeText(r.source)}: ${r.hosts} hosts${jobs}${when}${bad}`);
  }
  out.push(`newest run: ${s.total} hosts, ${s.ok} ok, ${s.failed} failed`);
  if (s.failuresByCode.length)
    out.push(
      `  failed by error: ${s.failuresByCode.map((f) => `${safeText(f.code)} ${f.count}`).join(", ")}`,
    );
  const dist = s.uptime.filter((b) => b.count > 0).map((b) => `${b.label}: ${b.count}`);
  if (dist.length) out.push(`  uptime: ${dist.join(", ")}`);
  if (s.noUptime) out.push(`  ok without uptime output: ${s.noUptime}`);

  const list = <T>(title: string, items: T[], line: (x: T) => string) => {
    out.push(`${title}: ${items.length}`);
    for (const x of items.slice(0, limit)) out.push(`  ${line(x)}`);
    if (items.length > limit) out.push(`  ... and ${items.length - limit} more (--json or --html lists all)`);
  };
  if (report.maxUptimeS !== undefined)
    list(
      `up longer than ${formatSpan(report.maxUptimeS)}`,
      report.overPolicy,
      (o) => `${safeText(o.target)}  up ${formatSpan(o.uptimeSeconds)}`,
    );
  list("failed", report.failed, (f) => `${safeText(f.target)}  ${safeText(f.code)} ${safeText(f.message)}`);
  if (report.compared) {
    out.push(
      `compared with the previous run (reboot tolerance: boot time precision + ${report.clockSkewS} s clock skew):`,
    );
    list(
      "rebooted",
      report.rebooted,
      (r) =>
        `${safeText(r.target)}  booted ${formatTime(r.bootedAt)} (was ${formatTime(r.previousBootedAt)}), up ${formatSpan(r.uptimeSeconds)}`,
    );
    list(
      "newly failing",
      report.newlyFailing,
      (f) => `${safeText(f.target)}  ${safeText(f.code)} ${safeText(f.message)}`,
    );
    list("recovered", report.recovered, (r) => `${safeText(r.target)}  was ${safeText(r.previousCode)}`);
    list(
      "missing from the newest run",
      report.missing,
      (m) => `${safeText(m.target)}  last seen ${formatTime(m.lastAt)}${m.lastOk ? "" : " (failed)"}`,
    );
    if (report.added) out.push(`new in the newest run: ${report.added}`);
  }
  return `${out.join("\n")}\n`;
}

/** The `--fail-if` categories that have hosts, with their counts. */
export function matchedCategories(
  report: Report,
  categories: readonly FailIfCategory[],
): { category: FailIfCategory; count: number }[] {
  return categories
    .map((category) => ({ category, count: countCategory(report, category) }))
    .filter((c) => c.count > 0);
}
