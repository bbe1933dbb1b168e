import type { MessageBody } from "@uptime/protocol";

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

/** Who holds a task: a worker connection. Two connections of one worker share the name. */
export interface Holder {
  readonly name: string;
}

/** What a receipt for one seq did. */
export type ReceiptVerdict<Owner> =
  | { kind: "receipted"; holder: Owner }
  | { kind: "duplicate" }
  | { kind: "not-held" }
  | { kind: "out-of-range" };

/**
 * Per-task state of one job, in flat typed arrays: memory proportional to the host list.
 * Only its own methods change it: the dispatcher asks, the job decides.
 */
export class JobState<Owner extends Holder> {
  readonly total: number;
  /** Each task's state: QUEUED, IN_FLIGHT, RECEIPTED or ABANDONED. */
  private readonly state: Uint8Array;
  private readonly attempts: Uint16Array;
  /** The last holder of each task (kept after a requeue: its late receipt still counts). */
  private readonly holder: (Owner | undefined)[];
  private fresh = 0;
  private readonly requeue: number[] = [];
  private requeueHead = 0;
  private counts = { receipted: 0, failed: 0, inFlight: 0, requeued: 0 };
  private readonly abandonedList: { seq: number; target: string }[] = [];
  private isFinished = false;
  readonly startedAt = performance.now();
  /** When the job started, in milliseconds since the epoch. */
  readonly startedAtEpoch = Date.now();
  private resolveDone!: (report: JobReport) => void;
  readonly done: Promise<JobReport>;

  constructor(
    readonly id: string,
    readonly targets: readonly string[],
    readonly command: string | undefined,
  ) {
    this.total = targets.length;
    this.state = new Uint8Array(this.total);
    this.attempts = new Uint16Array(this.total).fill(1);
    this.holder = new Array(this.total);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get receipted(): number {
    return this.counts.receipted;
  }

  get failed(): number {
    return this.counts.failed;
  }

  get inFlight(): number {
    return this.counts.inFlight;
  }

  /** Marks tasks stored in an earlier run of the job as receipted (seqs out of range are ignored). */
  markStored(seqs: Iterable<number>, failed = 0): void {
    for (const seq of seqs) {
      if (Number.isInteger(seq) && seq >= 0 && seq < this.total && this.state[seq] === QUEUED) {
        this.state[seq] = RECEIPTED;
        this.counts.receipted++;
      }
    }
    this.counts.failed += Math.min(failed, this.counts.receipted);
  }

  get queued(): number {
    return this.total - this.counts.receipted - this.counts.inFlight - this.abandonedList.length;
  }

  /** Whether every task has a receipt or was abandoned. */
  get complete(): boolean {
    return this.counts.receipted + this.abandonedList.length === this.total;
  }

  /** Whether the job ended (complete, cancelled or closed): nothing more changes it. */
  get finished(): boolean {
    return this.isFinished;
  }

  /** The state of task `seq`: {@link QUEUED}, {@link IN_FLIGHT}, {@link RECEIPTED} or {@link ABANDONED}. */
  stateOf(seq: number): number | undefined {
    return this.state[seq];
  }

  /** The attempt task `seq` is on (1 for the first). */
  attemptOf(seq: number): number | undefined {
    return this.attempts[seq];
  }

  /** The `task` message for `seq`, on its current attempt. */
  task(seq: number): Extract<MessageBody, { t: "task" }> {
    const body: Extract<MessageBody, { t: "task" }> = {
      t: "task",
      job: this.id,
      seq,
      attempt: this.attempts[seq]!,
      target: this.targets[seq]!,
    };
    if (this.command !== undefined) body.command = this.command;
    return body;
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

  markInFlight(seq: number, holder: Owner): void {
    this.state[seq] = IN_FLIGHT;
    this.holder[seq] = holder;
    this.counts.inFlight++;
  }

  /**
   * A receipt for `seq` relayed by `from`. It counts only when `from` holds the task (or held it
   * last, on this or an earlier connection of the same worker, and nobody holds it now): a peer
   * cannot make tasks it was never given vanish. A task abandoned meanwhile (its result arrived
   * after all) counts as receipted.
   */
  receipt(seq: number, from: Owner): ReceiptVerdict<Owner> {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.total) return { kind: "out-of-range" };
    const s = this.state[seq];
    if (s === RECEIPTED) return { kind: "duplicate" };
    const holder = this.holder[seq];
    if (holder === undefined) return { kind: "not-held" };
    if (s === IN_FLIGHT ? holder !== from : holder !== from && holder.name !== from.name) {
      return { kind: "not-held" };
    }
    if (s === ABANDONED) {
      const i = this.abandonedList.findIndex((a) => a.seq === seq);
      if (i >= 0) this.abandonedList.splice(i, 1);
    } else if (s === IN_FLIGHT) {
      this.counts.inFlight--;
    }
    this.state[seq] = RECEIPTED;
    this.counts.receipted++;
    return { kind: "receipted", holder };
  }

  /**
   * A receipt message's seqs relayed by `from` (see {@link receipt}): the seqs newly receipted with
   * who held each, the seqs out of range, and how many `from` does not hold. `failed` of the new
   * ones (at most) were errors.
   */
  receiptAll(
    seqs: readonly number[],
    from: Owner,
    failed = 0,
  ): { fresh: number[]; holders: Owner[]; failed: number; outOfRange: number[]; notHeld: number } {
    const fresh: number[] = [];
    const holders: Owner[] = [];
    const outOfRange: number[] = [];
    let notHeld = 0;
    for (const seq of seqs) {
      const v = this.receipt(seq, from);
      if (v.kind === "receipted") {
        fresh.push(seq);
        holders.push(v.holder);
      } else if (v.kind === "out-of-range") outOfRange.push(seq);
      else if (v.kind === "not-held") notHeld++;
    }
    const newlyFailed = Math.min(failed, fresh.length);
    this.counts.failed += newlyFailed;
    return { fresh, holders, failed: newlyFailed, outOfRange, notHeld };
  }

  /**
   * Puts an in-flight `seq` back in the queue, or abandons it at `maxAttempts`. `charge: false`
   * keeps the attempt as it is: the worker did not fail the task, its connection was replaced.
   */
  requeueTask(seq: number, maxAttempts: number, charge = true): "requeued" | "abandoned" | "ignored" {
    if (this.state[seq] !== IN_FLIGHT) return "ignored";
    this.counts.inFlight--;
    const attempt = this.attempts[seq]! + (charge ? 1 : 0);
    if (attempt > maxAttempts) {
      this.state[seq] = ABANDONED;
      this.abandonedList.push({ seq, target: this.targets[seq]! });
      return "abandoned";
    }
    this.attempts[seq] = attempt;
    this.state[seq] = QUEUED;
    this.requeue.push(seq);
    this.counts.requeued++;
    return "requeued";
  }

  /** Puts back (or abandons) every seq of a lost holder; see {@link requeueTask}. */
  requeueAll(
    seqs: Iterable<number>,
    maxAttempts: number,
    charge: boolean,
  ): { requeued: number; abandoned: number } {
    let requeued = 0;
    let abandoned = 0;
    for (const seq of seqs) {
      const r = this.requeueTask(seq, maxAttempts, charge);
      if (r === "requeued") requeued++;
      else if (r === "abandoned") abandoned++;
    }
    return { requeued, abandoned };
  }

  /** The `job-start` message workers relay to the sink. */
  startMessage(): Extract<MessageBody, { t: "job-start" }> {
    return { t: "job-start", job: this.id, total: this.total, at: this.startedAtEpoch };
  }

  /** The `job-end` message workers relay to the sink. */
  endMessage(cancelled: boolean): Extract<MessageBody, { t: "job-end" }> {
    return {
      t: "job-end",
      job: this.id,
      total: this.total,
      done: this.counts.receipted,
      failed: this.counts.failed,
      cancelled,
      at: Date.now(),
    };
  }

  progress(): JobProgress {
    return {
      total: this.total,
      receipted: this.counts.receipted,
      failed: this.counts.failed,
      inFlight: this.counts.inFlight,
      queued: this.queued,
      requeued: this.counts.requeued,
      abandoned: this.abandonedList.length,
    };
  }

  /** Ends the job and resolves `done` with its report; undefined when it had ended already. */
  finish(cancelled: boolean, reason?: string): JobReport | undefined {
    if (this.isFinished) return undefined;
    this.isFinished = true;
    const r: JobReport = {
      id: this.id,
      total: this.total,
      receipted: this.counts.receipted,
      failed: this.counts.failed,
      abandoned: this.abandonedList.slice(),
      cancelled,
      durationMs: performance.now() - this.startedAt,
    };
    if (reason !== undefined) r.reason = reason;
    this.resolveDone(r);
    return r;
  }
}
