import { count, UsageError } from "@uptime/cli-kit";
import { defaultStatePath, JobJournal, jobDigest, readJournal } from "./job-journal.js";

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
  const path = o.state ?? defaultStatePath(digest, o.env);
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
  const jobId = o.jobId ?? o.newId();
  if (o.resume) notes.push(`nothing to resume for this host list (no ${path}); starting a new job`);
  else if (prev && prev.job === jobId && prev.stored.size > 0) {
    throw new UsageError(
      `uptime-sender: job ${jobId} already has ${count(prev.stored.size, "stored result")} (state file ${path}); --resume continues it, or choose another --job id`,
    );
  } else if (prev && prev.stored.size < prev.total) {
    notes.push(
      `job ${prev.job} of this host list was not finished (${prev.stored.size} of ${prev.total} stored); starting a new job (--resume would continue it)`,
    );
  }
  const journal = await JobJournal.open(path, { job: jobId, total, digest }, false);
  return { jobId, journal, notes };
}
