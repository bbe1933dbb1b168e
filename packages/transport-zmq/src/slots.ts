/**
 * Numbered concurrency slots: `acquire` resolves with a free slot number (0..size-1),
 * waiting when all are busy. The slot number shows in the output (`worker1_15`).
 */
export class Slots {
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  get busy(): number {
    return this.size - this.free.length;
  }

  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) {
      next(slot);
      return;
    }
    this.free.push(slot);
    if (this.free.length === this.size && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when every slot is free again. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
