import { escapeText, quoteText, type Result } from "@uptime/protocol";

export type OutputFormat = "text" | "ndjson" | "csv";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "ndjson", "csv"];

export const CSV_HEADER =
  "job,seq,target,worker,slot,ok,uptime_text,uptime_seconds,users,load1,load5,load15,error_code,error_message,duration_ms,attempt,at,hostname,jump,booted_at,boot_precision_s\n";

/** When a host booted, by its probe time and uptime, and how precise that is. */
export interface BootTime {
  /** ISO 8601 UTC: `at` minus the uptime's seconds. */
  bootedAt: string;
  /**
   * Seconds of uncertainty that the uptime text allows: 1 when it counts seconds ("42 secs"),
   * 60 when its smallest unit is the minute ("65 days, 17:07", "3 min"), 3600 for hours only
   * ("2 days, 5 hrs"), 86400 for days only.
   */
  bootPrecisionS: number;
}

/** The boot time of an ok result with a parsed uptime, else undefined. */
export function bootTime(r: Result): BootTime | undefined {
  if (!r.ok || !r.uptime) return undefined;
  const ms = r.at - r.uptime.seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return { bootedAt: new Date(ms).toISOString(), bootPrecisionS: uptimePrecision(r.uptime.text) };
}

/** Smallest unit the uptime text shows, in seconds (see {@link BootTime.bootPrecisionS}). */
export function uptimePrecision(text: string): number {
  if (/\bsecs?\b|\bsec\(s\)|\bseconds?\b/i.test(text)) return 1;
  if (/\d:\d\d\b|\bmin/i.test(text)) return 60;
  if (/\bh(?:ou)?rs?\b|\bhr\(s\)|\bhours?\b/i.test(text)) return 3600;
  if (/\bdays?\b|\bday\(s\)|\bweeks?\b|\byears?\b/i.test(text)) return 86_400;
  return 60;
}

/**
 * One output line (with its newline) for a result. `text` is the original's format, with every
 * host-controlled string escaped so that a line is exactly one host (see the sink README's
 * grammar): `worker_id: worker1_15, host: web1, result: 65 days, 17:07` or
 * `worker_id: worker1_19, host: bzz, error: DNS "getaddrinfo ENOTFOUND bzz"`.
 */
export function formatResult(r: Result, format: OutputFormat): string {
  switch (format) {
    case "text": {
      const head = `worker_id: ${token(`${r.worker}_${r.slot}`)}, host: ${token(r.target)}, `;
      return r.ok
        ? `${head}result: ${value(r.uptime?.text ?? r.output ?? "")}\n`
        : `${head}error: ${token(r.error.code)} ${quoteText(r.error.message)}\n`;
    }
    case "ndjson": {
      const { v: _v, t: _t, ...rest } = r;
      return `${jsonLine({ ...rest, ...bootTime(r) })}\n`;
    }
    case "csv": {
      const u = r.ok ? r.uptime : undefined;
      const e = r.ok ? undefined : r.error;
      const boot = bootTime(r);
      const cells = [
        r.job,
        r.seq,
        r.target,
        r.worker,
        r.slot,
        r.ok,
        u?.text,
        u?.seconds,
        u?.users,
        u?.load?.[0],
        u?.load?.[1],
        u?.load?.[2],
        e?.code,
        e?.message,
        r.durationMs.toFixed(1),
        r.attempt,
        new Date(r.at).toISOString(),
        r.resolved?.hostname,
        r.resolved?.jump?.join(","),
        boot?.bootedAt,
        boot?.bootPrecisionS,
      ];
      return `${cells.map(csvCell).join(",")}\n`;
    }
  }
}

/** A bare word when it is one (no space, comma, quote, backslash or control), else quoted. */
function token(s: string): string {
  return s !== "" && /^[^\s,"\\]+$/.test(s) && escapeText(s) === s ? s : quoteText(s);
}

/** An uptime as the original printed it when it is plain (`65 days, 17:07`), else quoted. */
function value(s: string): string {
  return /^[\w ,:.()/+-]*$/.test(s) && !/host:|error:|result:|worker_id:/i.test(s) ? s.trim() : quoteText(s);
}

/** Characters JSON leaves raw that a terminal or a line reader must not get raw. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** JSON.stringify, with DEL, C1, line separators and bidi controls as \u escapes (same value). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function csvCell(v: string | number | boolean | undefined): string {
  if (v === undefined) return "";
  const s = typeof v === "string" ? escapeText(v) : String(v);
  return /[",]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
