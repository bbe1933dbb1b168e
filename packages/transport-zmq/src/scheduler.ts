import type { Holder, JobState } from "./job-state.js";

/** A worker as the scheduler sees it: what it can take now. */
export interface Hungry extends Holder {
  credit: number;
}

/**
 * Decides which queued tasks go to which worker, and calls `send` for each (which must take one
 * credit from the worker and mark the task in flight). Never sends beyond a worker's credit nor
 * beyond the fleet-wide `maxInFlight`; each worker with credit gets an equal share of what is
 * queued, in one burst the send queue coalesces into one ZeroMQ message, so a new worker gets
 * work at once and no worker takes all. Jobs are served in the order they were started.
 */
export function scheduleTasks<W extends Hungry>(
  jobs: Iterable<JobState<W>>,
  workers: Iterable<W>,
  maxInFlight: number,
  send: (worker: W, job: JobState<W>, seq: number) => void,
): void {
  const open = [...jobs].filter((j) => !j.finished);
  let queued = 0;
  let inFlight = 0;
  for (const j of open) {
    queued += j.queued;
    inFlight += j.inFlight;
  }
  // The fleet-wide watermark: send no more than what brings the tasks out up to it.
  queued = Math.min(queued, maxInFlight - inFlight);
  const pool = [...workers];
  while (queued > 0) {
    const hungry = pool.filter((w) => w.credit > 0);
    if (hungry.length === 0) return;
    const share = Math.ceil(queued / hungry.length);
    for (const w of hungry) {
      let n = Math.min(w.credit, share);
      while (n-- > 0) {
        const job = open.find((j) => j.queued > 0);
        if (!job) return;
        const seq = job.next();
        if (seq < 0) return; // cannot happen while job.queued > 0
        send(w, job, seq);
        if (--queued === 0) return;
      }
    }
  }
}
