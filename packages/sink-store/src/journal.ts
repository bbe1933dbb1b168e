import { readFile } from "node:fs/promises";

/**
 * One journal line: `["@", len, ...]` (where each file starts) or `[job, [seq, ...], len, ...]`
 * (these seqs are stored; each file's committed length after them). Older sinks wrote
 * `[job, seq, len]`, one line per result; those still read.
 */
export interface JournalEntry {
  job?: string;
  seqs: number[];
  committed: number[];
}

/** Reads a journal; a torn or damaged line is skipped (its results had no receipt and come again). */
export async function readJournal(path: string): Promise<{ lines: JournalEntry[]; cut?: number }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { lines: [] };
    throw err;
  }
  const lines: JournalEntry[] = [];
  const end = text.lastIndexOf("\n") + 1;
  for (const line of text.slice(0, end).split("\n")) {
    if (!line) continue;
    const entry = parseLine(line);
    if (entry) lines.push(entry);
  }
  return end < text.length ? { lines, cut: Buffer.byteLength(text.slice(0, end)) } : { lines };
}

function parseLine(line: string): JournalEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || typeof v[0] !== "string") return undefined;
  if (v[0] === "@") {
    const committed = v.slice(1);
    return committed.length > 0 && committed.every(isLength) ? { seqs: [], committed } : undefined;
  }
  const seqs = typeof v[1] === "number" ? [v[1]] : v[1];
  const committed = v.slice(2);
  if (!Array.isArray(seqs) || !seqs.every(isLength) || committed.length === 0 || !committed.every(isLength))
    return undefined;
  return { job: v[0], seqs, committed };
}

function isLength(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
