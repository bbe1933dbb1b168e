import { rename, rm, writeFile } from "node:fs/promises";
import { analyzeRuns, readJobRuns, renderHtml, safeText } from "@uptime/report-core";

/** What `--report` needs: where the NDJSON history is, where the page goes, the policy. */
export interface JobReportOptions {
  /** The NDJSON record the sink appends every result to (`--record`, or an NDJSON OUTFILE). */
  record: string;
  /** The HTML file to (re)write at the end of each job. */
  html: string;
  maxUptimeS?: number;
  clockSkewS: number;
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
}

/**
 * Writes the `uptime-report` HTML page for a job that has just ended: the job's results compared
 * with the job before it in the record (and older jobs' ok results, for reboots). One report at a
 * time; a job ending while one is written is reported after it. A report that cannot be written
 * is logged and costs nothing else (the results are already stored).
 */
export class JobReporter {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: JobReportOptions) {}

  /** Queues the report of `job`; the promise settles when it is written or has failed (never rejects). */
  write(job: string): Promise<void> {
    this.chain = this.chain.then(() => this.writeNow(job));
    return this.chain;
  }

  private async writeNow(job: string): Promise<void> {
    const { record, html, log } = this.options;
    const tmp = `${html}.${process.pid}.tmp`;
    try {
      let malformed = 0;
      const runs = await readJobRuns(record, job, () => malformed++);
      if (malformed > 0) log.warn(`--report: ${malformed} malformed lines in ${safeText(record)} skipped`);
      const report = analyzeRuns(runs, {
        clockSkewS: this.options.clockSkewS,
        ...(this.options.maxUptimeS !== undefined ? { maxUptimeS: this.options.maxUptimeS } : {}),
      });
      await writeFile(tmp, renderHtml(report, runs, { title: `uptime report: job ${job}` }));
      await rename(tmp, html);
      const counts = [
        `${report.summary.total} hosts`,
        `${report.summary.failed} failed`,
        ...(report.compared
          ? [`${report.rebooted.length} rebooted`, `${report.newlyFailing.length} newly failing`]
          : []),
        ...(report.maxUptimeS !== undefined ? [`${report.overPolicy.length} over policy`] : []),
      ];
      log.info(`report of job ${safeText(job)} written to ${safeText(html)} (${counts.join(", ")})`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      log.error(
        `--report: cannot write the report of job ${safeText(job)} to ${safeText(html)}: ${e.code ?? e.message}`,
      );
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
}
