/** Where a job stands. */
export interface JobProgress {
  total: number;
  /** Tasks with a receipt (stored by the sink). */
  receipted: number;
  /** Receipted tasks whose result was an error. */
  failed: number;
  /** Tasks sent to a worker and not yet receipted. */
  inFlight: number;
  /** Tasks waiting for credit. */
  queued: number;
  /** Times a task went back to the queue (worker lost, bye, unreachable). */
  requeued: number;
  /** Tasks given up after `maxAttempts`. */
  abandoned: number;
}

/** The outcome of a job. */
export interface JobReport {
  id: string;
  total: number;
  receipted: number;
  /** Receipted tasks whose result was an error, as counted by the sink's receipts. */
  failed: number;
  /** Tasks that reached `maxAttempts` without a receipt. */
  abandoned: { seq: number; target: string }[];
  cancelled: boolean;
  /** Why the job was cancelled, when it was. */
  reason?: string;
  durationMs: number;
}

/** A job being dispatched. */
export interface JobRun {
  id: string;
  total: number;
  /** Resolves when every task has a receipt or was abandoned, or the job was cancelled. Never rejects. */
  done: Promise<JobReport>;
  progress(): JobProgress;
}

export const QUEUED = 0;
export const IN_FLIGHT = 1;
export const RECEIPTED = 2;
export const ABANDONED = 3;

/** Per-task state of one job, in flat typed arrays: memory proportional to the host list. */
export class JobState<Owner> {
  readonly total: number;
  readonly state: Uint8Array;
  readonly attempts: Uint16Array;
  readonly owner: (Owner | undefined)[];
  private fresh = 0;
  private readonly requeue: number[] = [];
  private requeueHead = 0;
  receipted = 0;
  failed = 0;
  inFlight = 0;
  requeued = 0;
  readonly abandoned: { seq: number; target: string }[] = [];
  readonly startedAt = performance.now();
  /** When the job started, in milliseconds since the epoch. */
  readonly startedAtEpoch = Date.now();
  finished = false;
  resolve!: (report: JobReport) => void;
  readonly done: Promise<JobReport>;

  constructor(
    readonly id: string,
    readonly targets: readonly string[],
    readonly command: string | undefined,
  ) {
    this.total = targets.length;
    this.state = new Uint8Array(this.total);
    this.attempts = new Uint16Array(this.total).fill(1);
    this.owner = new Array(this.total);
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Marks tasks stored in an earlier run of the job as receipted (seqs out of range are ignored). */
  markStored(seqs: Iterable<number>, failed = 0): void {
    for (const seq of seqs) {
      if (Number.isInteger(seq) && seq >= 0 && seq < this.total && this.state[seq] === QUEUED) {
        this.state[seq] = RECEIPTED;
        this.receipted++;
      }
    }
    this.failed += Math.min(failed, this.receipted);
  }

  get queued(): number {
    return this.total - this.receipted - this.inFlight - this.abandoned.length;
  }

  /** Whether every task has a receipt or was abandoned. */
  get complete(): boolean {
    return this.receipted + this.abandoned.length === this.total;
  }

  /** Next queued seq (requeued ones first), or -1. */
  next(): number {
    while (this.requeueHead < this.requeue.length) {
      const seq = this.requeue[this.requeueHead++]!;
      if (this.requeueHead === this.requeue.length) {
        this.requeue.length = 0;
        this.requeueHead = 0;
      }
      if (this.state[seq] === QUEUED) return seq;
    }
    while (this.fresh < this.total) {
      const seq = this.fresh++;
      if (this.state[seq] === QUEUED) return seq;
    }
    return -1;
  }

  /** Whether some task is waiting, without taking it. */
  hasQueued(): boolean {
    return this.queued > 0;
  }

  markInFlight(seq: number, owner: Owner): void {
    this.state[seq] = IN_FLIGHT;
    this.owner[seq] = owner;
    this.inFlight++;
  }

  /**
   * Marks `seq` receipted; returns its previous owner when it was in flight, or false if it
   * already was. A task abandoned meanwhile (its result arrived after all) counts as receipted.
   */
  markReceipted(seq: number): { owner: Owner | undefined } | false {
    const s = this.state[seq];
    if (s === RECEIPTED || s === undefined) return false;
    if (s === ABANDONED) {
      const i = this.abandoned.findIndex((a) => a.seq === seq);
      if (i >= 0) this.abandoned.splice(i, 1);
      this.state[seq] = RECEIPTED;
      this.receipted++;
      return { owner: undefined };
    }
    const owner = this.owner[seq];
    if (s === IN_FLIGHT) this.inFlight--;
    this.owner[seq] = undefined;
    this.state[seq] = RECEIPTED;
    this.receipted++;
    return { owner };
  }

  /** Puts an in-flight `seq` back in the queue with its attempt raised, or abandons it at `maxAttempts`. */
  requeueTask(seq: number, maxAttempts: number): "requeued" | "abandoned" | "ignored" {
    if (this.state[seq] !== IN_FLIGHT) return "ignored";
    this.inFlight--;
    this.owner[seq] = undefined;
    const attempt = this.attempts[seq]! + 1;
    if (attempt > maxAttempts) {
      this.state[seq] = ABANDONED;
      this.abandoned.push({ seq, target: this.targets[seq]! });
      return "abandoned";
    }
    this.attempts[seq] = attempt;
    this.state[seq] = QUEUED;
    this.requeue.push(seq);
    this.requeued++;
    return "requeued";
  }

  progress(): JobProgress {
    return {
      total: this.total,
      receipted: this.receipted,
      failed: this.failed,
      inFlight: this.inFlight,
      queued: this.queued,
      requeued: this.requeued,
      abandoned: this.abandoned.length,
    };
  }

  report(cancelled: boolean, reason?: string): JobReport {
    const r: JobReport = {
      id: this.id,
      total: this.total,
      receipted: this.receipted,
      failed: this.failed,
      abandoned: this.abandoned.slice(),
      cancelled,
      durationMs: performance.now() - this.startedAt,
    };
    if (reason !== undefined) r.reason = reason;
    return r;
  }
}
