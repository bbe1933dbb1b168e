import { escapeText, type Result } from "@uptime/protocol";

const SLOWEST = 5;
const DAY = 86_400;
/** Uptime buckets of the distribution, upper bounds in seconds. */
const BUCKETS: [string, number][] = [
  ["< 1 day", DAY],
  ["1-7 days", 7 * DAY],
  ["7-30 days", 30 * DAY],
  ["30-90 days", 90 * DAY],
  ["90-365 days", 365 * DAY],
  ["> 1 year", Number.POSITIVE_INFINITY],
];

/** Running figures of one job, in memory bounded by the number of error codes. */
export class JobSummary {
  ok = 0;
  failed = 0;
  total: number | undefined;
  readonly errors = new Map<string, number>();
  readonly buckets = BUCKETS.map(() => 0);
  readonly slowest: { target: string; ms: number }[] = [];
  readonly startedAt = Date.now();

  constructor(readonly job: string) {}

  add(r: Result): void {
    if (r.ok) {
      this.ok++;
      if (r.uptime) {
        const seconds = r.uptime.seconds;
        const i = BUCKETS.findIndex(([, max]) => seconds < max);
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
      const dist = BUCKETS.map(([label], i) => `${label}: ${this.buckets[i]}`).filter(
        (s) => !s.endsWith(": 0"),
      );
      lines.push(`  uptime: ${dist.join(", ")}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
