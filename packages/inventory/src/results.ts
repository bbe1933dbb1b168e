import type { InventoryProblem } from "./problems.js";

/** The latest result of one target in a results file. */
export interface LatestResult {
  target: string;
  ok: boolean;
  /** The error code, for an error result. */
  code?: string;
  /** 1-based line of that result. */
  line: number;
}

// The sink's text format: `worker_id: W, host: H, result: TEXT` or `..., error: CODE message`
// (the message possibly quoted). Targets hold no whitespace, so `\S+` ends at ", result:".
const TEXT_RE = /^worker_id: .*?, host: (\S+), (result|error): ?(\S*)/;

/** Columns of the sink's CSV (`--format csv`) that a rerun needs, found by its header line. */
interface CsvColumns {
  target: number;
  ok: number;
  code: number;
  width: number;
}

/**
 * Reads a results file of the sink, NDJSON (`--format ndjson`), CSV (`--format csv`, from its
 * header line on) or the original's text format, and returns the latest result of each target
 * (a later line wins). Lines that are none of these (summaries, blank lines) are skipped; a line
 * that looks like a result but cannot be read is a problem.
 * @example
 * latestResults('worker_id: w_1, host: web1, error: AUTH "denied"\n').get("web1"); // { ok: false, code: "AUTH", ... }
 */
export function latestResults(
  text: string,
  source = "results",
): { results: Map<string, LatestResult>; problems: InventoryProblem[] } {
  const results = new Map<string, LatestResult>();
  const problems: InventoryProblem[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  let csv: CsvColumns | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "") continue;
    const header = csvHeader(line);
    if (header) {
      csv = header;
      continue;
    }
    const r = line.startsWith("{") ? fromJson(line) : csv ? fromCsv(line, csv) : fromText(line);
    if (typeof r === "string") {
      problems.push({ source, line: i + 1, text: raw, message: r });
      continue;
    }
    if (!r) continue;
    results.delete(r.target); // keep the map in the order of the latest results
    results.set(r.target, { ...r, line: i + 1 });
  }
  return { results, problems };
}

/**
 * The targets whose latest result is an error, optionally only with one of `codes`.
 * @example
 * failedTargets(latestResults(text).results, ["AUTH", "CONNECT_TIMEOUT"]);
 */
export function failedTargets(
  results: ReadonlyMap<string, LatestResult>,
  codes?: readonly string[],
): string[] {
  const want = codes && codes.length > 0 ? new Set(codes) : undefined;
  const out: string[] = [];
  for (const r of results.values()) {
    if (!r.ok && (!want || (r.code !== undefined && want.has(r.code)))) out.push(r.target);
  }
  return out;
}

function fromJson(line: string): Omit<LatestResult, "line"> | string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return "not valid JSON";
  }
  if (typeof v !== "object" || v === null) return "not a result object";
  const o = v as { target?: unknown; ok?: unknown; error?: { code?: unknown } };
  if (typeof o.target !== "string" || o.target === "" || typeof o.ok !== "boolean") {
    return 'a result needs "target" (a string) and "ok" (true or false)';
  }
  if (o.ok) return { target: o.target, ok: true };
  const code = o.error?.code;
  return { target: o.target, ok: false, ...(typeof code === "string" ? { code } : {}) };
}

function fromText(line: string): Omit<LatestResult, "line"> | undefined {
  const m = TEXT_RE.exec(line);
  if (!m) return undefined;
  let target = m[1]!;
  if (target.startsWith('"')) {
    try {
      target = JSON.parse(target) as string;
    } catch {
      return undefined;
    }
  }
  if (m[2] === "result") return { target, ok: true };
  const code = m[3]!.replace(/^"|"$/g, "");
  return { target, ok: false, ...(code ? { code } : {}) };
}

/** The columns of a CSV header line naming at least `target` and `ok`, else undefined. */
function csvHeader(line: string): CsvColumns | undefined {
  if (!/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)+$/.test(line)) return undefined;
  const names = line.split(",");
  const target = names.indexOf("target");
  const ok = names.indexOf("ok");
  if (target < 0 || ok < 0) return undefined;
  return { target, ok, code: names.indexOf("error_code"), width: names.length };
}

function fromCsv(line: string, columns: CsvColumns): Omit<LatestResult, "line"> | string {
  const cells = csvCells(line);
  if (cells === undefined || cells.length !== columns.width)
    return `not a CSV row of ${columns.width} columns as the header names`;
  const target = cells[columns.target]!;
  const ok = cells[columns.ok];
  if (target === "" || (ok !== "true" && ok !== "false"))
    return 'a CSV result needs "target" and "ok" (true or false)';
  if (ok === "true") return { target, ok: true };
  const code = columns.code >= 0 ? cells[columns.code]! : "";
  return { target, ok: false, ...(code ? { code } : {}) };
}

/** The cells of one RFC 4180 row (quoted cells with `""` for a quote), or undefined when malformed. */
function csvCells(line: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.push(cell);
      if (i === line.length) return cells;
      if (line[i] !== ",") return undefined;
      i++;
    } else {
      const comma = line.indexOf(",", i);
      if (comma < 0) {
        cells.push(line.slice(i));
        return cells;
      }
      cells.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
