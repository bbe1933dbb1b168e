/**
 * Numbered concurrency slots: `acquire` resolves with a free slot number (0..size-1),
 * waiting when all are busy. The slot number shows in the output (`worker1_15`).
 */
export class Slots {
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];

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
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** Resolves when every slot is free again. */
  async idle(): Promise<void> {
    while (this.busy > 0) await new Promise((r) => setTimeout(r, 20));
  }
}
