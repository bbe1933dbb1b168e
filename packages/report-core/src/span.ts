const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * A span of time in seconds from `90d`, `12h`, `30m`, `45s`, `2w` or a plain number of seconds;
 * `undefined` when the text is none of these.
 *
 * @example
 * parseSpan("90d"); // 7776000
 */
export function parseSpan(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNITS[m[2] || "s"] ?? 1);
}

/**
 * {@link parseSpan} for a flag or an option: the seconds, or a TypeError naming `name`.
 *
 * @example
 * requireSpan("--max-uptime", "90d"); // 7776000
 */
export function requireSpan(name: string, text: string): number {
  const s = parseSpan(text);
  if (s === undefined) throw new TypeError(`${name} must be a span like 90d, 12h, 30m or 45s, got "${text}"`);
  return s;
}

/** Seconds as `65d 17h 07m` (`2h 05m`, `4m 10s` for short spans). */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return h === 0 && m === 0 ? `${d}d` : `${d}d ${pad(h)}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  return `${m}m ${pad(s % 60)}s`;
}

/** Epoch milliseconds as `2026-12-02 03:04:05Z`. */
export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}
