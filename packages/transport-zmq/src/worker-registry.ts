import type { WorkerInfo } from "./dispatcher-types.js";
import type { Holder, JobState } from "./job-state.js";

/**
 * One worker connection as the dispatcher sees it: the credit it advertised (capped), when it
 * was last heard, and the tasks it holds, by job. Only its own methods change it.
 */
export class WorkerEntry implements Holder {
  readonly peer: string;
  private held = new Map<JobState<WorkerEntry>, Set<number>>();
  private heldCount = 0;
  private creditLeft: number;

  constructor(
    /** The routing id as a map key (latin1). */
    readonly key: string,
    readonly identity: Buffer,
    /** The worker's id: two connections of one worker share it. */
    readonly name: string,
    public capacity: number,
    private maxCredit: number,
    credit: number,
    public lastSeen: number,
  ) {
    this.peer = identity.toString("hex");
    this.creditLeft = Math.min(maxCredit, credit);
  }

  /** Tasks it can take now. */
  get credit(): number {
    return this.creditLeft;
  }

  /** Tasks it holds (sent, not receipted). */
  get inFlight(): number {
    return this.heldCount;
  }

  /** As the dispatcher's events show it. */
  info(): WorkerInfo {
    return { worker: this.name, capacity: this.capacity, peer: this.peer };
  }

  /** A new `ready` on the same connection: capacity, cap and credit start over. */
  refresh(capacity: number, maxCredit: number, credit: number, now: number): void {
    this.capacity = capacity;
    this.maxCredit = maxCredit;
    this.creditLeft = Math.min(maxCredit, credit);
    this.lastSeen = now;
  }

  /** Credit granted by the worker, up to its cap. */
  addCredit(n: number): void {
    this.creditLeft = Math.min(this.maxCredit, this.creditLeft + n);
  }

  /** A task sent to it: one credit taken, the task held. */
  assign(job: JobState<WorkerEntry>, seq: number): void {
    this.creditLeft--;
    let set = this.held.get(job);
    if (!set) {
      set = new Set();
      this.held.set(job, set);
    }
    set.add(seq);
    this.heldCount++;
  }

  /** A task of its was receipted: no longer held. */
  settle(job: JobState<WorkerEntry>, seq: number): void {
    if (this.held.get(job)?.delete(seq)) this.heldCount--;
  }

  /** Forgets every task of `job` (cancelled or finished). */
  dropJob(job: JobState<WorkerEntry>): void {
    const seqs = this.held.get(job);
    if (!seqs) return;
    this.heldCount -= seqs.size;
    this.held.delete(job);
  }

  /** Everything it holds, forgotten now (it is lost): for the dispatcher to requeue. */
  takeAll(): Map<JobState<WorkerEntry>, Set<number>> {
    const all = this.held;
    this.held = new Map();
    this.heldCount = 0;
    return all;
  }
}

/**
 * The worker connections a dispatcher knows, by routing id: who joined, who is current, and
 * the credit they hold together. Sockets and scheduling stay with the dispatcher.
 */
export class WorkerRegistry {
  private readonly byKey = new Map<string, WorkerEntry>();

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<WorkerEntry> {
    return this.byKey.values();
  }

  get(key: string): WorkerEntry | undefined {
    return this.byKey.get(key);
  }

  /** Whether `w` is still the registered connection under its routing id. */
  isCurrent(w: WorkerEntry): boolean {
    return this.byKey.get(w.key) === w;
  }

  /** Other connections of the worker named `name` (it recreated its socket). */
  named(name: string): WorkerEntry[] {
    return [...this.byKey.values()].filter((w) => w.name === name);
  }

  add(w: WorkerEntry): void {
    this.byKey.set(w.key, w);
  }

  /** Removes `w`; false when it was not the current connection (lost already). */
  remove(w: WorkerEntry): boolean {
    if (!this.isCurrent(w)) return false;
    this.byKey.delete(w.key);
    return true;
  }

  /** Credit outstanding over all workers. */
  totalCredit(): number {
    let credit = 0;
    for (const w of this.byKey.values()) credit += w.credit;
    return credit;
  }
}
