import { readFileSync } from "node:fs";

/** Open-files limits of this process (Linux: /proc/self/limits); undefined where unknown. */
export function getOpenFilesLimit(): { soft: number; hard: number } | undefined {
  try {
    const text = readFileSync("/proc/self/limits", "utf8");
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (!m) return undefined;
    const n = (s: string) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return undefined;
  }
}

/** A counting semaphore per key (destination host:port), entries removed when idle. */
export class KeyedLimiter {
  private readonly slots = new Map<string, { active: number; waiters: (() => void)[] }>();

  constructor(private readonly limit: number) {}

  async acquire(key: string, signal: AbortSignal): Promise<() => void> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, waiters: [] };
      this.slots.set(key, slot);
    }
    const s = slot;
    if (s.active < this.limit) {
      s.active++;
    } else {
      // A releasing holder hands its slot straight to the first waiter, so the count never overshoots.
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = s.waiters.indexOf(wake);
          if (i >= 0) s.waiters.splice(i, 1);
          this.drop(key, s);
          reject(signal.reason);
        };
        s.waiters.push(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.waiters.shift();
      if (next) return next();
      s.active--;
      this.drop(key, s);
    };
  }

  private drop(key: string, s: { active: number; waiters: (() => void)[] }): void {
    if (s.active === 0 && s.waiters.length === 0 && this.slots.get(key) === s) this.slots.delete(key);
  }
}
