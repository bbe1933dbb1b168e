import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type LineProblem, RunBuilder } from "./read.js";
import type { Run } from "./types.js";

/**
 * Streams one NDJSON result file into a {@link Run}; malformed lines are skipped and reported
 * through `onProblem` with their 1-based line number. Rejects when the file cannot be read.
 *
 * @example
 * const run = await readRunFile("results.ndjson", (p) => console.warn(`${p.source}:${p.line}: ${p.reason}`));
 */
export async function readRunFile(path: string, onProblem?: (p: LineProblem) => void): Promise<Run> {
  const builder = new RunBuilder(path);
  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) builder.add(line, ++lineNo, onProblem);
  } finally {
    lines.close();
    stream.destroy();
  }
  return builder.finish();
}
