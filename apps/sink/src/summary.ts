import { escapeText, type Result } from "@uptime/protocol";
import { bucketOf, UPTIME_BUCKETS } from "@uptime/report-core";

const SLOWEST = 5;

/** Running figures of one job, in memory bounded by the number of error codes. */
export class JobSummary {
  ok = 0;
  failed = 0;
  total: number | undefined;
  readonly errors = new Map<string, number>();
  readonly buckets = UPTIME_BUCKETS.map(() => 0);
  readonly slowest: { target: string; ms: number }[] = [];
  readonly startedAt = Date.now();

  constructor(readonly job: string) {}

  add(r: Result): void {
    if (r.ok) {
      this.ok++;
      if (r.uptime) {
        const i = bucketOf(r.uptime.seconds);
        this.buckets[i] = (this.buckets[i] ?? 0) + 1;
      }
    } else {
      this.failed++;
      this.errors.set(r.error.code, (this.errors.get(r.error.code) ?? 0) + 1);
    }
    if (this.slowest.length < SLOWEST || r.durationMs > (this.slowest.at(-1)?.ms ?? 0)) {
      this.slowest.push({ target: r.target, ms: r.durationMs });
      this.slowest.sort((a, b) => b.ms - a.ms);
      if (this.slowest.length > SLOWEST) this.slowest.pop();
    }
  }

  /** Human-readable summary, several lines. */
  format(): string {
    const stored = this.ok + this.failed;
    const lines = [
      `job ${escapeText(this.job)}: ${stored}${this.total !== undefined ? `/${this.total}` : ""} results, ${this.ok} ok, ${this.failed} failed`,
    ];
    if (this.errors.size > 0) {
      const byCode = [...this.errors].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${escapeText(c)} ${n}`);
      lines.push(`  failed by error: ${byCode.join(", ")}`);
    }
    if (this.slowest.length > 0) {
      lines.push(
        `  slowest: ${this.slowest.map((s) => `${escapeText(s.target)} ${(s.ms / 1000).toFixed(2)}s`).join(", ")}`,
      );
    }
    if (this.ok > 0) {
      const dist = UPTIME_BUCKETS.map(([label], i) => `${label}: ${this.buckets[i]}`).filter(
        (s) => !s.endsWith(": 0"),
      );
      lines.push(`  uptime: ${dist.join(", ")}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
