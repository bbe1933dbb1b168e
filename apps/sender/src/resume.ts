import { count, UsageError } from "@uptime/cli-kit";
import {
  defaultStateDir,
  defaultStatePath,
  findStates,
  JobJournal,
  jobDigest,
  readJournal,
} from "./job-journal.js";

export interface JobPlanOptions {
  targets: readonly string[];
  command?: string | undefined;
  /** `--job`, when given. */
  jobId?: string | undefined;
  /** `--resume`. */
  resume: boolean;
  /** `--state`: a path, `off`, or undefined for the default path. */
  state?: string | undefined;
  newId: () => string;
  env?: NodeJS.ProcessEnv;
}

export interface JobPlan {
  jobId: string;
  /** Tasks stored by an earlier run of this job (resume). */
  stored?: { seqs: number[]; failed: number };
  journal?: JobJournal;
  /** What to tell the operator. */
  notes: string[];
}

/**
 * Decides the job id and what is already stored: with `resume`, the unfinished job of the same
 * host list and command continues (same id, same seqs, only unreceipted tasks sent); without
 * it, a new job starts, and reusing the id of a job with stored results is refused (the sink
 * would drop the new results as duplicates of the old ones).
 */
export async function planJob(o: JobPlanOptions): Promise<JobPlan> {
  if (o.state === "off") {
    if (o.resume) throw new UsageError("uptime-sender: --resume needs a state file, and --state is off");
    return { jobId: o.jobId ?? o.newId(), notes: [] };
  }
  const digest = jobDigest(o.targets, o.command);
  const dir = defaultStateDir(o.env);
  // Default: one state file per job, found again by the digest of its host list and command.
  const earlier = o.state === undefined ? findStates(dir, digest) : [];
  const jobId = o.jobId ?? (o.resume && earlier[0] ? undefined : o.newId());
  const path =
    o.state ??
    (jobId !== undefined
      ? defaultStatePath(dir, digest, jobId)
      : (earlier[0] ?? defaultStatePath(dir, digest, "")));
  const prev = readJournal(path);
  const total = o.targets.length;
  if (o.resume && prev) {
    if (prev.digest !== digest || prev.total !== total) {
      throw new UsageError(
        `uptime-sender: cannot resume job ${prev.job} (state file ${path}): the host list or --command changed since it started, so its seqs would name other hosts; run without --resume for a new job`,
      );
    }
    if (o.jobId !== undefined && o.jobId !== prev.job) {
      throw new UsageError(
        `uptime-sender: --job ${o.jobId} differs from the job to resume (${prev.job}, in ${path})`,
      );
    }
    const journal = await JobJournal.open(path, { job: prev.job, total, digest }, true);
    return {
      jobId: prev.job,
      stored: { seqs: [...prev.stored], failed: prev.failed },
      journal,
      notes: [
        `resuming job ${prev.job}: ${count(prev.stored.size, "host")} of ${total} stored before, ${total - prev.stored.size} to send`,
      ],
    };
  }
  const notes: string[] = [];
  const id = jobId ?? o.newId();
  const target = o.state ?? defaultStatePath(dir, digest, id);
  if (o.resume)
    notes.push(
      `nothing to resume for this host list (no ${o.state ?? `state file in ${dir}`}); starting a new job`,
    );
  else if (prev && prev.job === id && prev.stored.size > 0) {
    throw new UsageError(
      `uptime-sender: job ${id} already has ${count(prev.stored.size, "stored result")} (state file ${path}); --resume continues it, or choose another --job id`,
    );
  } else {
    const other =
      o.state !== undefined ? prev : earlier.map(readJournalQuietly).find((s) => s && s.job !== id);
    if (other && other.stored.size < other.total) {
      notes.push(
        `job ${other.job} of this host list was not finished (${other.stored.size} of ${other.total} stored); starting a new job (--resume would continue it)`,
      );
    }
  }
  const journal = await JobJournal.open(target, { job: id, total, digest }, false);
  return { jobId: id, journal, notes };
}

function readJournalQuietly(path: string): ReturnType<typeof readJournal> {
  try {
    return readJournal(path);
  } catch {
    return undefined;
  }
}
