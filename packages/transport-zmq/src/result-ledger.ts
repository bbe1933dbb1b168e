/** The key of a task or result: (job, seq). */
export const taskKey = (job: string, seq: number): string => `${seq}\u0000${job}`;

interface Entry {
  frame: Buffer;
  sentAt: number;
}

/**
 * Results a worker sent to the sink that have no receipt yet, oldest first. They are
 * sent again when the sink connection comes back or after a while: the sink
 * de-duplicates, and without a receipt the dispatcher would wait for them forever.
 */
export class ResultLedger {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  /** Records `frame` as sent now (moving it to the end when it was there already). */
  record(job: string, seq: number, frame: Buffer): void {
    const key = taskKey(job, seq);
    this.entries.delete(key);
    this.entries.set(key, { frame, sentAt: performance.now() });
  }

  /** Forgets the receipted results. */
  receipt(job: string, seqs: readonly number[]): void {
    for (const seq of seqs) this.entries.delete(taskKey(job, seq));
  }

  /** Frames sent at least `ageMs` ago (all when 0), oldest first, now recorded as sent again. */
  takeStale(ageMs: number): Buffer[] {
    const now = performance.now();
    const stale: [string, Entry][] = [];
    for (const entry of this.entries) {
      if (now - entry[1].sentAt < ageMs) break; // insertion order: the rest are younger
      stale.push(entry);
    }
    for (const [key, e] of stale) {
      this.entries.delete(key);
      e.sentAt = now;
      this.entries.set(key, e);
    }
    return stale.map(([, e]) => e.frame);
  }
}
