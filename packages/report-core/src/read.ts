import type { HostRecord, Run } from "./types.js";

/** Boot time precision assumed when a result has no `bootPrecisionS`: `uptime` mostly shows minutes. */
export const FALLBACK_PRECISION_S = 60;

/** Why a line is not a result; `line` is 1-based. */
export interface LineProblem {
  source: string;
  line: number;
  reason: string;
}

/** What {@link parseResultLine} makes of one line. */
export type ParsedLine =
  | { kind: "blank" }
  | { kind: "ok"; host: HostRecord }
  | { kind: "bad"; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * One NDJSON line of `uptime-sink --format ndjson` as a {@link HostRecord}. Never throws: a line
 * that is not a result comes back as `{ kind: "bad", reason }`.
 */
export function parseResultLine(text: string): ParsedLine {
  const line = text.trim();
  if (line === "") return { kind: "blank" };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: "bad", reason: "not JSON" };
  }
  if (!isObject(v)) return { kind: "bad", reason: "not a JSON object" };
  const { target, ok, at, job } = v;
  if (typeof target !== "string" || target === "") return { kind: "bad", reason: "no target" };
  if (typeof ok !== "boolean") return { kind: "bad", reason: `"ok" is not true or false` };
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0)
    return { kind: "bad", reason: `"at" is not a time in epoch milliseconds` };
  const host: HostRecord = { target, ok, at, job: typeof job === "string" ? job : "" };
  if (!ok) {
    const error = v.error;
    if (!isObject(error) || typeof error.code !== "string" || error.code === "")
      return { kind: "bad", reason: "a failed result without error.code" };
    host.errorCode = error.code;
    host.errorMessage = typeof error.message === "string" ? error.message : "";
    return { kind: "ok", host };
  }
  const uptime = v.uptime;
  if (uptime === undefined) return { kind: "ok", host };
  if (!isObject(uptime)) return { kind: "bad", reason: `"uptime" is not an object` };
  const seconds = uptime.seconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0)
    return { kind: "bad", reason: "uptime.seconds is not a number of seconds" };
  host.uptimeSeconds = seconds;
  if (typeof uptime.text === "string") host.uptimeText = uptime.text;
  const boot = bootOf(v, at, seconds);
  if (typeof boot === "string") return { kind: "bad", reason: boot };
  host.bootedAt = boot.bootedAt;
  host.bootPrecisionS = boot.precisionS;
  return { kind: "ok", host };
}

/** `bootedAt`/`bootPrecisionS` of the line, or computed from `at` and the uptime; a string for a bad value. */
function bootOf(
  v: Record<string, unknown>,
  at: number,
  seconds: number,
): { bootedAt: number; precisionS: number } | string {
  let precisionS = FALLBACK_PRECISION_S;
  if (v.bootPrecisionS !== undefined) {
    const p = v.bootPrecisionS;
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0)
      return "bootPrecisionS is not a number of seconds";
    precisionS = p;
  }
  if (v.bootedAt === undefined) return { bootedAt: at - seconds * 1000, precisionS };
  const b = typeof v.bootedAt === "string" ? Date.parse(v.bootedAt) : Number.NaN;
  if (!Number.isFinite(b)) return "bootedAt is not an ISO 8601 time";
  return { bootedAt: b, precisionS };
}

/**
 * Builds one {@link Run} from lines fed in file order. Within a run the result with the
 * latest `at` wins for each target (a later line wins a tie), so a file holding several jobs,
 * or a job's redelivered results, gives one answer per host.
 *
 * @example
 * const b = new RunBuilder("monday.ndjson");
 * for (const [i, line] of text.split("\n").entries()) b.add(line, i + 1, (p) => console.warn(p.reason));
 * const run = b.finish();
 */
export class RunBuilder {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly jobs = new Set<string>();
  private lines = 0;
  private malformed = 0;
  private firstAt = Number.POSITIVE_INFINITY;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(readonly source: string) {}

  /** Adds one line; a line that is not a result is counted and reported through `onProblem`. */
  add(text: string, lineNo: number, onProblem?: (p: LineProblem) => void): void {
    const parsed = parseResultLine(text);
    if (parsed.kind === "blank") return;
    this.lines++;
    if (parsed.kind === "bad") {
      this.malformed++;
      onProblem?.({ source: this.source, line: lineNo, reason: parsed.reason });
      return;
    }
    this.keep(parsed.host);
  }

  /** Adds a result already parsed (by {@link parseResultLine}); it counts as one line. */
  addRecord(h: HostRecord): void {
    this.lines++;
    this.keep(h);
  }

  private keep(h: HostRecord): void {
    if (h.job) this.jobs.add(h.job);
    if (h.at < this.firstAt) this.firstAt = h.at;
    if (h.at > this.lastAt) this.lastAt = h.at;
    const seen = this.hosts.get(h.target);
    if (!seen || h.at >= seen.at) this.hosts.set(h.target, h);
  }

  finish(): Run {
    const run: Run = {
      source: this.source,
      jobs: [...this.jobs],
      hosts: this.hosts,
      lines: this.lines,
      malformed: this.malformed,
    };
    if (this.hosts.size > 0) {
      run.firstAt = this.firstAt;
      run.lastAt = this.lastAt;
    }
    return run;
  }
}

/** A whole NDJSON text as one {@link Run} (for text already in memory; files stream through {@link RunBuilder}). */
export function readRun(source: string, text: string, onProblem?: (p: LineProblem) => void): Run {
  const b = new RunBuilder(source);
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNo++;
    b.add(text.slice(start, end), lineNo, onProblem);
    start = end + 1;
  }
  return b.finish();
}
