import type { Result } from "@uptime/protocol";

export type OutputFormat = "text" | "ndjson" | "csv";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "ndjson", "csv"];

export const CSV_HEADER =
  "job,seq,target,worker,slot,ok,uptime_text,uptime_seconds,users,load1,load5,load15,error_code,error_message,duration_ms,attempt,at,hostname,jump\n";

/**
 * One output line (with its newline) for a result. `text` is the original's format:
 * `worker_id: worker1_15, host: web1, result: 65 days, 17:07` or `..., error: DNS getaddrinfo ENOTFOUND bzz`.
 */
export function formatResult(r: Result, format: OutputFormat): string {
  switch (format) {
    case "text":
      return r.ok
        ? `worker_id: ${r.worker}_${r.slot}, host: ${r.target}, result: ${oneLine(r.uptime?.text ?? r.output ?? "")}\n`
        : `worker_id: ${r.worker}_${r.slot}, host: ${r.target}, error: ${r.error.code} ${oneLine(r.error.message)}\n`;
    case "ndjson": {
      const { v: _v, t: _t, ...rest } = r;
      return `${JSON.stringify(rest)}\n`;
    }
    case "csv": {
      const u = r.ok ? r.uptime : undefined;
      const e = r.ok ? undefined : r.error;
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
      ];
      return `${cells.map(csvCell).join(",")}\n`;
    }
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

function csvCell(v: string | number | boolean | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
