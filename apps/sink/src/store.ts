import { writeSync } from "node:fs";
import { type FileHandle, open, readFile, stat, truncate } from "node:fs/promises";
import type { Result } from "@uptime/protocol";
import { SeqSet } from "./bitset.js";
import { CSV_HEADER, formatResult, type OutputFormat } from "./format.js";

export interface SinkStoreOptions {
  /** File the results are appended to; without it, standard output is the store. */
  outFile?: string;
  format: OutputFormat;
  /** Print each stored line to standard output too. @default true */
  print?: boolean;
  /** Journal of stored (job, seq) and committed output offsets. @default `${outFile}.journal` */
  journalFile?: string;
  /** fsync the output and the journal before a batch counts as stored. @default true */
  fsync?: boolean;
  out?: NodeJS.WritableStream;
  warn?: (msg: string) => void;
}

/**
 * Durable, de-duplicating storage of results.
 *
 * Each batch is appended to the output file in one write, then one line per job of the batch
 * (`[job, [seq, ...], committed]`) goes to the journal with the output's committed length; both are fsynced before `write` resolves
 * (and only then does the sink send receipts). On open, the journal tells which (job, seq)
 * are stored and how long the output is known to be: bytes past that (written by a sink
 * killed between the two writes) are cut off, since their results had no receipt and will
 * be delivered again. So the output has each result exactly once and never a torn line.
 */
export class SinkStore {
  private readonly seen = new Map<string, SeqSet>();
  private committed = 0;

  private constructor(
    private readonly options: SinkStoreOptions,
    private readonly output: FileHandle | undefined,
    private readonly journal: FileHandle | undefined,
  ) {}

  static async open(options: SinkStoreOptions): Promise<SinkStore> {
    if (!options.outFile) return new SinkStore(options, undefined, undefined);
    const journalFile = options.journalFile ?? `${options.outFile}.journal`;
    const size = await fileSize(options.outFile);
    const entries = await readJournal(journalFile);
    const output = await open(options.outFile, "a");
    const journal = await open(journalFile, "a");
    const store = new SinkStore(options, output, journal);
    if (entries.cut !== undefined) await truncate(journalFile, entries.cut);
    let committed = size;
    if (entries.lines.length === 0) {
      await journal.write(`${JSON.stringify(["@", size])}\n`);
    } else {
      for (const e of entries.lines) {
        if (e.length === 2) committed = e[1];
        else {
          if (typeof e[1] === "number") store.mark(e[0], e[1]);
          else for (const seq of e[1]) store.mark(e[0], seq);
          committed = e[2];
        }
      }
      if (size > committed) {
        options.warn?.(
          `${options.outFile}: cutting ${size - committed} bytes written after the last commit (their results will be delivered again)`,
        );
        await truncate(options.outFile, committed);
      } else if (size < committed) {
        options.warn?.(
          `${options.outFile} is shorter than its journal says (${size} < ${committed}); was it edited?`,
        );
        committed = size;
      }
    }
    store.committed = committed;
    return store;
  }

  /** Results stored so far, from this run and earlier ones. */
  get count(): number {
    let n = 0;
    for (const s of this.seen.values()) n += s.size;
    return n;
  }

  has(job: string, seq: number): boolean {
    return this.seen.get(job)?.has(seq) ?? false;
  }

  /** Stores the results not stored before; resolves once they are durable. Returns those stored now. */
  async write(results: Result[]): Promise<Result[]> {
    const fresh: Result[] = [];
    let text = "";
    for (const r of results) {
      if (!this.mark(r.job, r.seq)) continue;
      fresh.push(r);
      text += formatResult(r, this.options.format);
    }
    if (fresh.length === 0) return fresh;
    if (this.output && this.journal) {
      if (this.options.format === "csv" && this.committed === 0) text = CSV_HEADER + text;
      const bytes = Buffer.from(text, "utf8");
      // Appends to the page cache take microseconds: write them here, and leave only the two
      // datasyncs (output first, then the journal that commits it) to the thread pool.
      writeAll(this.output.fd, bytes);
      if (this.options.fsync !== false) await this.output.datasync();
      this.committed += bytes.length;
      // One journal line per job of the batch: [job, [seq, ...], committed].
      const byJob = new Map<string, number[]>();
      for (const r of fresh) {
        const seqs = byJob.get(r.job);
        if (seqs) seqs.push(r.seq);
        else byJob.set(r.job, [r.seq]);
      }
      let journal = "";
      for (const [job, seqs] of byJob) journal += `${JSON.stringify([job, seqs, this.committed])}\n`;
      writeAll(this.journal.fd, Buffer.from(journal, "utf8"));
      if (this.options.fsync !== false) await this.journal.datasync();
    }
    if (this.options.print !== false || !this.output) (this.options.out ?? process.stdout).write(text);
    return fresh;
  }

  async close(): Promise<void> {
    await this.output?.close();
    await this.journal?.close();
  }

  private mark(job: string, seq: number): boolean {
    let set = this.seen.get(job);
    if (!set) {
      set = new SeqSet();
      this.seen.set(job, set);
    }
    return set.add(seq);
  }
}

/** `["@", offset]`, or `[job, seq, committed]` (one per result, older sinks) / `[job, [seq...], committed]`. */
type JournalLine = ["@", number] | [string, number | number[], number];

async function readJournal(path: string): Promise<{ lines: JournalLine[]; cut?: number }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { lines: [] };
    throw err;
  }
  const lines: JournalLine[] = [];
  const end = text.lastIndexOf("\n") + 1;
  for (const line of text.slice(0, end).split("\n")) {
    if (!line) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (Array.isArray(v) && v[0] === "@" && typeof v[1] === "number") lines.push(["@", v[1]]);
      else if (
        Array.isArray(v) &&
        typeof v[0] === "string" &&
        (typeof v[1] === "number" ||
          (Array.isArray(v[1]) && v[1].every((x: unknown) => typeof x === "number"))) &&
        typeof v[2] === "number"
      ) {
        lines.push([v[0], v[1] as number | number[], v[2]]);
      }
    } catch {
      // A damaged line is skipped: its result had no receipt and comes again.
    }
  }
  return end < text.length ? { lines, cut: Buffer.byteLength(text.slice(0, end)) } : { lines };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
}

/** Writes all of `bytes` at the end of the file opened for appending as `fd`. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
