import type { Task } from "@uptime/protocol";

/** Where the inbox stands: `open` takes and yields tasks; `closed` (final) ends the iterator. */
export type TaskInboxState = "open" | "closed";

/**
 * Tasks received and not yet taken by the worker's one consumer, in arrival order. A task
 * whose credit was given back meanwhile (its job stopped) is skipped, not yielded.
 */
export class TaskInbox {
  private queue: Task[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  state: TaskInboxState = "open";

  /** Tasks waiting (including stopped ones not yet skipped). */
  get size(): number {
    return this.queue.length - this.head;
  }

  push(task: Task): void {
    this.queue.push(task);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waiting tasks of `job`. */
  queuedOf(job: string): Task[] {
    const found: Task[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const t = this.queue[i]!;
      if (t.job === job) found.push(t);
    }
    return found;
  }

  /** Yields tasks as they arrive, those still `live`; ends when the inbox closes. */
  async *tasks(live: (task: Task) => boolean): AsyncIterableIterator<Task> {
    while (this.state === "open") {
      if (this.head < this.queue.length) {
        const task = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as Task;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        if (live(task)) yield task;
      } else {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    }
  }

  /** open -> closed: the iterator ends (at once if it waits). */
  close(): void {
    this.state = "closed";
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
