import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UsageError } from "@uptime/cli-kit";

/**
 * The sender's state file: which tasks of its job the sink has receipted, so that a sender
 * killed mid-job (even `kill -9`) and started again with `--resume` sends only the rest, under
 * the same job id and the same seqs (the sink de-duplicates by job id and seq, so a task
 * receipted but not yet journaled is stored once all the same).
 *
 * Line 1 is a header `{"v":1,"job","total","digest","startedAt"}`; each further line is one
 * receipt `{"seqs":[...],"failed":n}`, written with one write(2) as it arrives (the page cache
 * keeps it across a process crash; a torn last line is ignored). A `.lock` file beside it holds
 * the pid of the sender using it. The file is removed when every task has a receipt.
 */
export interface JournalState {
  job: string;
  total: number;
  /** Digest of the targets (in order) and the command: the same job only when equal. */
  digest: string;
  stored: Set<number>;
  failed: number;
}

/** Digest of a job's targets (in order) and command. */
export function jobDigest(targets: readonly string[], command: string | undefined): string {
  const h = createHash("sha256");
  h.update(`${command ?? ""}\n`);
  for (const t of targets) h.update(`${t}\n`);
  return h.digest("hex");
}

/** `$XDG_STATE_HOME/uptime-sender` (`~/.local/state/uptime-sender` without XDG_STATE_HOME). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "uptime-sender");
}

/** `<dir>/<digest prefix>-<job>.state`: one file per job, so two jobs of one host list never share one. */
export function defaultStatePath(dir: string, digest: string, job: string): string {
  return join(dir, `${digest.slice(0, 20)}-${job}.state`);
}

/** State files of jobs of this digest in `dir`, newest first. */
export function findStates(dir: string, digest: string): string[] {
  const prefix = `${digest.slice(0, 20)}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(".state"))
    .map((n) => ({
      path: join(dir, n),
      mtime: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0,
    }))
    .sort((a, b) => b.mtime - a.mtime)
    .map((e) => e.path);
}

/** Reads a state file; undefined when there is none. A torn or foreign last line is ignored. */
export function readJournal(path: string): JournalState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UsageError(`uptime-sender: cannot read state file ${path}: ${(err as Error).message}`);
  }
  const lines = text.split("\n");
  let header: { v?: unknown; job?: unknown; total?: unknown; digest?: unknown };
  try {
    header = JSON.parse(lines[0] ?? "");
  } catch {
    throw new UsageError(`uptime-sender: ${path} is not an uptime-sender state file`);
  }
  if (
    header.v !== 1 ||
    typeof header.job !== "string" ||
    typeof header.total !== "number" ||
    typeof header.digest !== "string"
  ) {
    throw new UsageError(`uptime-sender: ${path} is not an uptime-sender state file`);
  }
  const state: JournalState = {
    job: header.job,
    total: header.total,
    digest: header.digest,
    stored: new Set(),
    failed: 0,
  };
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    try {
      const r = JSON.parse(line) as { seqs?: unknown; failed?: unknown };
      if (!Array.isArray(r.seqs)) continue;
      for (const seq of r.seqs)
        if (Number.isInteger(seq) && seq >= 0 && seq < state.total) state.stored.add(seq);
      if (typeof r.failed === "number") state.failed += r.failed;
    } catch {
      // a line torn by a crash: its seqs are sent again and the sink de-duplicates them
    }
  }
  return state;
}

/** An open state file, owned (locked) by this process. */
export class JobJournal {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    private readonly lockPath: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Locks `path` for this process (refusing when another live sender holds it), then starts a
   * new journal for `header` or, with `append`, continues the existing one.
   */
  static async open(
    path: string,
    header: { job: string; total: number; digest: string },
    append: boolean,
  ): Promise<JobJournal> {
    await mkdir(dirname(path), { recursive: true });
    const lockPath = `${path}.lock`;
    takeLock(lockPath, path);
    try {
      const fd = openSync(path, append ? "a" : "w", 0o600);
      if (!append) {
        writeSync(fd, `${JSON.stringify({ v: 1, ...header, startedAt: new Date().toISOString() })}\n`);
      }
      return new JobJournal(path, lockPath, fd);
    } catch (err) {
      rmSync(lockPath, { force: true });
      throw new UsageError(`uptime-sender: cannot write state file ${path}: ${(err as Error).message}`);
    }
  }

  /** Journals tasks the sink receipted. */
  record(seqs: readonly number[], failed: number): void {
    if (this.fd === undefined || seqs.length === 0) return;
    writeSync(this.fd, `${JSON.stringify({ seqs, failed })}\n`);
  }

  /** Closes and unlocks; with `complete` (every task receipted) the state file is removed too. */
  close(complete: boolean): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (complete) rmSync(this.path, { force: true });
    rmSync(this.lockPath, { force: true });
  }
}

function takeLock(lockPath: string, path: string): void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new UsageError(`uptime-sender: cannot lock state file ${path}: ${(err as Error).message}`);
      }
    }
    const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new UsageError(
        `uptime-sender: another uptime-sender (pid ${pid}) is running this job (state file ${path}); wait for it, or give this one --state FILE`,
      );
    }
    rmSync(lockPath, { force: true }); // left by a sender that died
  }
  throw new UsageError(`uptime-sender: cannot lock state file ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
