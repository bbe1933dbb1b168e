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

/**
 * Reads a results file of the sink, NDJSON (`--format ndjson`) or the original's text format,
 * and returns the latest result of each target (a later line wins). Lines that are neither
 * (summaries, blank lines) are skipped; a line that looks like a result but cannot be read is
 * a problem.
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
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "") continue;
    const r = line.startsWith("{") ? fromJson(line) : fromText(line);
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
