// SinkStore: the sink's durable store. Over 350 lines on purpose: opening (recovery from the
// journal), writing a batch (bytes, fsync, journal entry), cutting back after a failed write and
// retrying on a full disk are one protocol over the same committed lengths; split across files,
// the invariant "a result is stored only when its bytes and its journal entry are durable" would
// have no single place to be read and checked.
import { writeSync } from "node:fs";
import { type FileHandle, open, stat, statfs, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import type { Result } from "@uptime/protocol";
import { CSV_HEADER, formatResult, type OutputFormat } from "./format.js";
import { readJournal } from "./journal.js";
import { SeqSet } from "./seq-set.js";

/** Options of {@link SinkStore.open}. */
export interface SinkStoreOptions {
  /** File the results are appended to; without it, standard output is the main output. @default undefined */
  outFile?: string;
  /** Format of the main output (`outFile` or standard output). */
  format: OutputFormat;
  /**
   * A second file that gets every result as NDJSON, whatever `format` is: the machine-readable
   * history. A result counts as stored only when both files and the journal are durable.
   * @default undefined
   */
  recordFile?: string;
  /** Print each stored line to standard output too. @default true */
  print?: boolean;
  /**
   * Journal of stored (job, seq) and committed output lengths.
   * @default `${outFile}.journal` (or `${recordFile}.journal` without an outFile)
   */
  journalFile?: string;
  /** fsync the outputs and the journal before a batch counts as stored. @default true */
  fsync?: boolean;
  /** How long to wait before writing a failed batch again. @default 1000 */
  retryMs?: number;
  /** Least time between two "still cannot write" messages. @default 10000 */
  loudEveryMs?: number;
  /** Where standard-output lines go. @default process.stdout */
  out?: NodeJS.WritableStream;
  /** Recovery notes (cut bytes, writable again). @default undefined (silent) */
  warn?: (msg: string) => void;
  /** Write failures (rate-limited). @default `warn` */
  error?: (msg: string) => void;
}

/** Counters of a {@link SinkStore}. */
export interface SinkStoreMetrics {
  /** Results stored (durable) by this process. */
  stored: number;
  /** Results waiting in memory for the disk: not durable, not receipted. */
  held: number;
  /** Write attempts that failed (each rolled back). */
  failedWrites: number;
  /** Results given up when {@link SinkStore.stopRetrying} was called while they waited. */
  unstored: number;
  /** The last write error, while writes are failing. */
  failing?: string;
}

/** Thrown by {@link SinkStore.write} when a batch cannot be made durable and the store stops retrying. */
export class StoreWriteError extends Error {
  readonly code = "STORE_WRITE";
  constructor(
    message: string,
    readonly results: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreWriteError";
  }
}

interface Output {
  path: string;
  format: OutputFormat;
  fh: FileHandle;
  /** Length known durable (journaled). */
  committed: number;
}

/**
 * Durable, de-duplicating storage of results; implements the `ResultStore` of
 * `@uptime/transport-zmq` (`has`, `write`).
 *
 * A batch is appended to each output file (the main one and the record) in one write, each is
 * fsynced, then one line per job (`[job, [seq, ...], committed, recordCommitted?]`) is appended
 * to the journal and fsynced. Only then are its (job, seq) marked stored and `write` resolves (and
 * the sink sends receipts). When any step fails (a full disk, EIO, a short write), every file is
 * cut back to its committed length, nothing is marked, and the batch is kept and written again
 * every `retryMs` until it succeeds: `write` resolves late, so no receipt goes out meanwhile
 * and the caller's backpressure holds the rest. On open, the journal says which (job, seq) are
 * stored and how long each file is known to be; bytes past that (a sink killed between the
 * writes) are cut off, since their results had no receipt and come again.
 *
 * @example
 * const store = await SinkStore.open({ outFile: "results.txt", format: "text", print: false });
 * const collector = new Collector({ store });
 */
export class SinkStore {
  private readonly seen = new Map<string, SeqSet>();
  private tail: Promise<unknown> = Promise.resolve();
  private retrying = true;
  private closed = false;
  private wake: (() => void) | undefined;
  private journalLength = 0;
  private failingSince: number | undefined;
  private lastLoud = 0;
  private readonly counters = { stored: 0, held: 0, failedWrites: 0, unstored: 0 };
  private failing: string | undefined;
  private printedHeader = false;

  private constructor(
    private readonly options: SinkStoreOptions,
    private readonly outputs: Output[],
    private readonly journal: FileHandle | undefined,
  ) {}

  static async open(options: SinkStoreOptions): Promise<SinkStore> {
    const files: { path: string; format: OutputFormat }[] = [];
    if (options.outFile) files.push({ path: options.outFile, format: options.format });
    if (options.recordFile) {
      if (options.recordFile === options.outFile) {
        throw new TypeError(
          `SinkStore: recordFile must differ from outFile, got ${options.recordFile} twice`,
        );
      }
      files.push({ path: options.recordFile, format: "ndjson" });
    }
    const first = files[0];
    if (!first) return new SinkStore(options, [], undefined);
    const journalFile = options.journalFile ?? `${first.path}.journal`;
    const sizes = await Promise.all(files.map((f) => fileSize(f.path)));
    const entries = await readJournal(journalFile);
    if (entries.cut !== undefined) {
      options.warn?.(`${journalFile}: cutting a torn last line (its results come again)`);
      await truncate(journalFile, entries.cut);
    }
    const outputs: Output[] = [];
    for (const [i, f] of files.entries()) {
      outputs.push({ ...f, fh: await open(f.path, "a"), committed: sizes[i] ?? 0 });
    }
    const journal = await open(journalFile, "a");
    const store = new SinkStore(options, outputs, journal);
    store.journalLength = entries.cut ?? (await fileSize(journalFile));
    for (const e of entries.lines) {
      if (e.job !== undefined) for (const seq of e.seqs) store.mark(e.job, seq);
    }
    const last = entries.lines.at(-1);
    let known = 0;
    for (const [i, o] of outputs.entries()) {
      const c = last?.committed[i];
      if (c === undefined) continue; // not journaled before: its current length counts
      known++;
      if (o.committed > c) {
        options.warn?.(
          `${o.path}: cutting ${o.committed - c} bytes written after the last commit (their results come again)`,
        );
        await o.fh.truncate(c);
        o.committed = c;
      } else if (o.committed < c) {
        options.warn?.(`${o.path} is shorter than its journal says (${o.committed} < ${c}); was it edited?`);
      }
    }
    if (known < outputs.length || last?.committed.length !== outputs.length) {
      // A new journal, or a new set of files: record where each starts.
      const line = Buffer.from(`${JSON.stringify(["@", ...outputs.map((o) => o.committed)])}\n`);
      writeAll(journal.fd, line);
      if (options.fsync !== false) await journal.datasync();
      store.journalLength += line.length;
    }
    return store;
  }

  /** Results stored so far, from this run and earlier ones. */
  get count(): number {
    let n = 0;
    for (const s of this.seen.values()) n += s.size;
    return n;
  }

  /** Whether (job, seq) is durably stored. */
  has(job: string, seq: number): boolean {
    return this.seen.get(job)?.has(seq) ?? false;
  }

  metrics(): SinkStoreMetrics {
    return { ...this.counters, ...(this.failing ? { failing: this.failing } : {}) };
  }

  /**
   * Stores the results not stored before (once each); resolves with those stored now, once
   * they are durable. While the disk refuses, the batch waits in memory and is tried again;
   * rejects with a {@link StoreWriteError} only after {@link stopRetrying} or {@link close}.
   */
  writeFresh(results: Result[]): Promise<Result[]> {
    const run = this.tail.then(() => this.writeNow(results));
    this.tail = run.catch(() => {});
    return run;
  }

  /** {@link writeFresh} as transport-zmq's `ResultStore.write`: resolves once the batch is durable. */
  async write(results: Result[]): Promise<void> {
    await this.writeFresh(results);
  }

  /** A write that fails from now on rejects instead of waiting (also the one waiting now). */
  stopRetrying(): void {
    this.retrying = false;
    this.wake?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopRetrying();
    await this.tail;
    this.closed = true;
    for (const o of this.outputs) await o.fh.close();
    await this.journal?.close();
  }

  private async writeNow(results: Result[]): Promise<Result[]> {
    if (this.closed) throw new StoreWriteError("SinkStore: closed", results.length);
    const fresh: Result[] = [];
    const inBatch = new Set<string>();
    for (const r of results) {
      const key = `${r.seq}\u0000${r.job}`;
      if (this.has(r.job, r.seq) || inBatch.has(key)) continue;
      inBatch.add(key);
      fresh.push(r);
    }
    if (fresh.length === 0) return fresh;
    // The batch's bytes for each output, the same for every attempt (a failed one is cut back).
    const bytes = this.outputs.map((o) => {
      let text = o.format === "csv" && o.committed === 0 ? CSV_HEADER : "";
      for (const r of fresh) text += formatResult(r, o.format);
      return Buffer.from(text, "utf8");
    });
    for (let attempt = 0; ; attempt++) {
      try {
        // Retrying on a full disk: write only when the file systems report room for the batch, so
        // a reader never sees the partial line that a short write leaves until it is cut back.
        if (attempt > 0) await this.checkRoom(fresh, bytes);
        await this.appendBatch(fresh, bytes);
        break;
      } catch (error) {
        await this.rollback();
        this.counters.failedWrites++;
        if (!this.retrying) {
          this.counters.unstored += fresh.length;
          throw new StoreWriteError(
            `SinkStore: ${fresh.length} results not stored: ${errorText(error)}`,
            fresh.length,
            {
              cause: error,
            },
          );
        }
        this.counters.held = fresh.length;
        this.reportFailure(error, fresh.length);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.retryMs ?? 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
    if (this.failingSince !== undefined) {
      const secs = ((Date.now() - this.failingSince) / 1000).toFixed(0);
      (this.options.warn ?? this.options.error)?.(
        `writable again after ${secs}s: stored the ${fresh.length} held results; receipts resume`,
      );
      this.failingSince = undefined;
      this.failing = undefined;
    }
    this.counters.held = 0;
    this.counters.stored += fresh.length;
    for (const r of fresh) this.mark(r.job, r.seq);
    if (this.options.print !== false || this.outputs.length === 0) {
      let text = "";
      if (this.options.format === "csv" && !this.printedHeader) {
        text = CSV_HEADER;
        this.printedHeader = true;
      }
      for (const r of fresh) text += formatResult(r, this.options.format);
      (this.options.out ?? process.stdout).write(text);
    }
    return fresh;
  }

  /**
   * Appends `fresh` (`bytes[i]` for output i) to every output, then journals it; throws (with the
   * path) on any failure.
   */
  private async appendBatch(fresh: Result[], batch: Buffer[]): Promise<void> {
    if (!this.journal) return;
    const fsync = this.options.fsync !== false;
    const lengths: number[] = [];
    for (const [i, o] of this.outputs.entries()) {
      const bytes = batch[i]!;
      // Appends to the page cache take microseconds: write them here, and leave only the
      // datasyncs to the thread pool.
      await withPath(o.path, async () => {
        writeAll(o.fh.fd, bytes);
        if (fsync) await o.fh.datasync();
      });
      lengths.push(o.committed + bytes.length);
    }
    const byJob = new Map<string, number[]>();
    for (const r of fresh) {
      const seqs = byJob.get(r.job);
      if (seqs) seqs.push(r.seq);
      else byJob.set(r.job, [r.seq]);
    }
    let text = "";
    for (const [job, seqs] of byJob) text += `${JSON.stringify([job, seqs, ...lengths])}\n`;
    const bytes = Buffer.from(text, "utf8");
    const journal = this.journal;
    await withPath(this.journalPath(), async () => {
      writeAll(journal.fd, bytes);
      if (fsync) await journal.datasync();
    });
    this.journalLength += bytes.length;
    for (const [i, o] of this.outputs.entries()) o.committed = lengths[i] ?? o.committed;
  }

  /**
   * Throws ENOSPC (touching no file) when a file system holding an output or the journal reports
   * less free space than the batch needs there; a statfs that fails checks nothing (the write
   * itself then tells).
   */
  private async checkRoom(fresh: Result[], batch: Buffer[]): Promise<void> {
    // What each file will grow by, and its current length (the rest of its last block is free).
    const files = this.outputs.map((o, i) => ({
      dir: dirname(o.path),
      bytes: batch[i]!.length,
      length: o.committed,
    }));
    // The journal line: the job, its seqs and the committed lengths (an estimate from above).
    files.push({
      dir: dirname(this.journalPath()),
      bytes: 64 + 8 * fresh.length,
      length: this.journalLength,
    });
    const dirs = new Set(files.map((f) => f.dir));
    for (const dir of dirs) {
      const fs = await statfs(dir).catch(() => undefined);
      if (!fs || fs.bsize <= 0) continue;
      let need = 0;
      for (const f of files) {
        if (f.dir !== dir) continue;
        const slack = f.length % fs.bsize === 0 ? 0 : fs.bsize - (f.length % fs.bsize);
        need += Math.max(0, f.bytes - slack);
      }
      // root may also write into the blocks a file system reserves for it.
      const free = (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
      if (free < need) {
        const err = new Error(
          `ENOSPC: ${dir} has ${free} bytes free, the held results need about ${need}`,
        ) as NodeJS.ErrnoException;
        err.code = "ENOSPC";
        throw err;
      }
    }
  }

  /** Cuts every file back to its committed length, so a retry appends after whole lines only. */
  private async rollback(): Promise<void> {
    for (const o of this.outputs) await o.fh.truncate(o.committed).catch(() => {});
    await this.journal?.truncate(this.journalLength).catch(() => {});
  }

  private reportFailure(error: unknown, held: number): void {
    const now = Date.now();
    this.failing = errorText(error);
    const say = this.options.error ?? this.options.warn;
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.lastLoud = now;
      say?.(
        `cannot store results: ${this.failing}; holding ${held} results in memory, sending no receipts, trying again every ${((this.options.retryMs ?? 1000) / 1000).toString()}s`,
      );
    } else if (now - this.lastLoud >= (this.options.loudEveryMs ?? 10_000)) {
      this.lastLoud = now;
      say?.(
        `still cannot store results after ${((now - this.failingSince) / 1000).toFixed(0)}s: ${this.failing}; ${held} results held, no receipts sent`,
      );
    }
  }

  private journalPath(): string {
    const first = this.outputs[0];
    return this.options.journalFile ?? `${first?.path}.journal`;
  }

  private mark(job: string, seq: number): void {
    let set = this.seen.get(job);
    if (!set) {
      set = new SeqSet();
      this.seen.set(job, set);
    }
    set.add(seq);
  }
}

async function withPath(path: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    throw new Error(`${path}: ${errorText(error)}`, { cause: error });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
