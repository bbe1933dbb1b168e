import type { Task } from "@uptime/protocol";
import { taskKey } from "./result-ledger.js";

/** Freed slots are granted back together, at most this long after the first of them. */
export const GRANT_MS = 10;

/** What {@link CreditWindow.take} did with a task. */
export type TakeVerdict = "taken" | "duplicate" | "over-credit";

/**
 * A worker's credit: the tasks it holds (running or waiting to run) against its window
 * (capacity plus prefetch), and the credit it owes the dispatcher for slots freed since.
 * Freed credit is granted in batches (a tenth of the window, or after {@link GRANT_MS}),
 * and only while `grantable()` says so (the link runs, the sink is there and keeps up).
 */
export class CreditWindow {
  private readonly held = new Map<string, Task>();
  private readonly batch: number;
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Credit granted so far. */
  granted = 0;
  /** Credit messages sent (grants are batched). */
  messages = 0;

  constructor(
    readonly size: number,
    private readonly grantable: () => boolean,
    private readonly sendCredit: (credit: number) => void,
  ) {
    this.batch = Math.max(1, Math.ceil(size / 10));
  }

  /** Tasks held: received and not yet given back. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Whether the task (job, seq) is held. */
  holds(job: string, seq: number): boolean {
    return this.held.has(taskKey(job, seq));
  }

  /**
   * A task from the dispatcher. `duplicate`: held already (requeued to us while it runs), its
   * credit is given back at once; `over-credit`: the window is full, the task is not taken.
   */
  take(task: Task): TakeVerdict {
    const key = taskKey(task.job, task.seq);
    if (this.held.has(key)) {
      this.grant(1);
      return "duplicate";
    }
    if (this.held.size >= this.size) return "over-credit";
    this.held.set(key, task);
    return "taken";
  }

  /** Forgets a held task without granting its credit yet; false when it was not held. */
  forget(job: string, seq: number): boolean {
    return this.held.delete(taskKey(job, seq));
  }

  /** Forgets a held task and grants its credit back; false when it was not held. */
  giveBack(job: string, seq: number): boolean {
    if (!this.forget(job, seq)) return false;
    this.grant(1);
    return true;
  }

  /** A fresh dispatcher connection starts from the free window: grants still pending are void. */
  restart(): number {
    this.pending = 0;
    return Math.max(0, this.size - this.held.size);
  }

  /** Owes `n` more credit: sent when a batch is full, else within {@link GRANT_MS}. */
  grant(n: number): void {
    this.pending += n;
    if (this.pending >= this.batch) this.flush();
    else if (!this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, GRANT_MS);
    }
  }

  /** Whether credit is owed and not yet sent. */
  get owing(): boolean {
    return this.pending > 0;
  }

  /** Sends what is owed now, if `grantable()`; otherwise it stays owed. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending <= 0 || this.stopped || !this.grantable()) return;
    const credit = this.pending;
    this.pending = 0;
    this.granted += credit;
    this.messages++;
    this.sendCredit(credit);
  }

  /** No more grants (the link is closing: what it holds goes back to the queue with its bye). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
