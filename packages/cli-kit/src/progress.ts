export interface ProgressState {
  done: number;
  total: number;
  failed: number;
  /** Extra words at the end of the line, e.g. "workers 3". */
  extra?: string;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Prints the final line (and a newline on a terminal). */
  finish(state: ProgressState): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force terminal or plain mode; default: the stream's isTTY. */
  tty?: boolean;
  /** Interval of plain lines, in ms. @default 5000 */
  plainIntervalMs?: number;
  /** Redraw interval on a terminal, in ms. @default 100 */
  ttyIntervalMs?: number;
  now?: () => number;
}

/**
 * Progress of a job: a bar redrawn in place on a terminal, plain periodic lines otherwise
 * (log files, CI). Shows done/total, rate, ETA and failures.
 */
export function createProgress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const interval = tty ? (options.ttyIntervalMs ?? 100) : (options.plainIntervalMs ?? 5000);
  const now = options.now ?? Date.now;
  const start = now();
  let last = 0;
  const samples: { t: number; done: number }[] = [];

  const render = (s: ProgressState, final: boolean) => {
    const t = now();
    samples.push({ t, done: s.done });
    while (samples.length > 2 && t - (samples[0]?.t ?? t) > 10_000) samples.shift();
    const first = samples[0] ?? { t: start, done: 0 };
    const window = (t - first.t) / 1000;
    const overall = (t - start) / 1000;
    const rate = final || window < 1 ? s.done / Math.max(overall, 0.001) : (s.done - first.done) / window;
    const left = s.total - s.done;
    const eta = rate > 0 ? left / rate : Number.POSITIVE_INFINITY;
    const pct = s.total > 0 ? Math.floor((100 * s.done) / s.total) : 100;
    const parts = [
      `${s.done}/${s.total}`,
      `${pct}%`,
      `${formatRate(rate)}/s`,
      final ? `in ${formatSeconds(overall)}` : `ETA ${formatSeconds(eta)}`,
      `failed ${s.failed}`,
    ];
    if (s.extra) parts.push(s.extra);
    if (tty) {
      const width = 24;
      const filled = s.total > 0 ? Math.round((width * s.done) / s.total) : width;
      const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
      stream.write(`\r\x1b[2K${label} ${bar} ${parts.join("  ")}${final ? "\n" : ""}`);
    } else {
      stream.write(`${label}: ${parts.join(", ")}\n`);
    }
  };

  return {
    update(state) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      render(state, false);
    },
    finish(state) {
      render(state, true);
    },
  };
}

function formatRate(r: number): string {
  return r >= 100 ? String(Math.round(r)) : r.toFixed(1);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
