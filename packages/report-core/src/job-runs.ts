import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type LineProblem, parseResultLine, RunBuilder } from "./read.js";
import type { Run } from "./types.js";

/**
 * The runs to compare one job of a long-lived NDJSON record with (as `uptime-sink --record`
 * keeps it, every job appended), oldest first:
 * - `history`: the ok results of the jobs before the previous one (so a reboot is still found
 *   when the host failed in the previous job), omitted when there are none;
 * - the previous job (the one that first appeared last before `job`), omitted when none;
 * - `job` itself.
 *
 * Jobs are ordered by their first line in the file. Two streaming passes; memory holds at most
 * three hosts maps, whatever the number of jobs in the record.
 *
 * @example
 * const runs = await readJobRuns("record.ndjson", "nightly-42");
 * const report = analyzeRuns(runs, { maxUptimeS: 90 * 86400 });
 */
export async function readJobRuns(
  path: string,
  job: string,
  onProblem?: (p: LineProblem) => void,
): Promise<Run[]> {
  const order: string[] = [];
  const seen = new Set<string>();
  await eachLine(path, (line) => {
    const p = parseResultLine(line);
    if (p.kind === "ok" && !seen.has(p.host.job)) {
      seen.add(p.host.job);
      order.push(p.host.job);
    }
  });
  const at = order.indexOf(job);
  const previous = at > 0 ? order[at - 1] : undefined;
  const older = new Set(at > 1 ? order.slice(0, at - 1) : []);
  const history = new RunBuilder(`${path} (ok results of ${older.size} earlier jobs)`);
  const before = new RunBuilder(`${path} (job ${previous ?? "-"})`);
  const current = new RunBuilder(`${path} (job ${job})`);
  let lineNo = 0;
  await eachLine(path, (line) => {
    lineNo++;
    const p = parseResultLine(line);
    if (p.kind === "bad") {
      onProblem?.({ source: path, line: lineNo, reason: p.reason });
      return;
    }
    if (p.kind !== "ok") return;
    const h = p.host;
    if (h.job === job) current.addRecord(h);
    else if (h.job === previous) before.addRecord(h);
    else if (h.ok && older.has(h.job)) history.addRecord(h);
  });
  const runs: Run[] = [];
  if (older.size > 0) runs.push(history.finish());
  if (previous !== undefined) runs.push(before.finish());
  runs.push(current.finish());
  return runs;
}

async function eachLine(path: string, fn: (line: string) => void): Promise<void> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) fn(line);
  } finally {
    lines.close();
    stream.destroy();
  }
}
