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

interface Slot {
  active: number;
  /** Current limit: the configured one, or lower after the server dropped connections. */
  limit: number;
  /** Connections completed since the limit last changed. */
  completed: number;
  waiters: (() => void)[];
}

/** Most keys whose lowered limit is remembered while idle. */
const MAX_REMEMBERED = 10_000;

/**
 * A counting semaphore per key (resolved address:port) whose limit adapts as TCP's window does: a connection the
 * server dropped before its banner (sshd over MaxStartups) lowers that key's limit to one below what was in
 * flight, and every `limit` completed handshakes raise it by one, up to the configured limit. Entries are removed
 * when idle unless their limit is lowered.
 */
export class KeyedLimiter {
  private readonly slots = new Map<string, Slot>();
  private lowered = 0;

  constructor(private readonly max: number) {}

  /** The current limit for `key`. */
  limitOf(key: string): number {
    return this.slots.get(key)?.limit ?? this.max;
  }

  async acquire(key: string, signal: AbortSignal): Promise<Permit> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, limit: this.max, completed: 0, waiters: [] };
      this.slots.set(key, slot);
    }
    const s = slot;
    if (s.active < s.limit) {
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
    const release = (outcome: "ok" | "dropped" | "other") => {
      if (released) return;
      released = true;
      if (outcome === "dropped") {
        const limit = Math.max(1, Math.min(s.limit, s.active - 1));
        if (limit < s.limit) {
          if (s.limit === this.max) this.lowered++;
          s.limit = limit;
          s.completed = 0;
        }
      } else if (outcome === "ok" && s.limit < this.max && ++s.completed >= s.limit) {
        s.limit++;
        s.completed = 0;
        if (s.limit === this.max) this.lowered--;
      }
      // Hand the slot on while the count stays within the (possibly lowered) limit; a raised limit admits more.
      const next = s.active <= s.limit ? s.waiters.shift() : undefined;
      if (next) next();
      else s.active--;
      while (s.active < s.limit && s.waiters.length > 0) {
        s.active++;
        s.waiters.shift()!();
      }
      this.drop(key, s);
    };
    return { release };
  }

  private drop(key: string, s: Slot): void {
    if (s.active !== 0 || s.waiters.length !== 0 || this.slots.get(key) !== s) return;
    if (s.limit < this.max && this.lowered <= MAX_REMEMBERED) return;
    if (s.limit < this.max) this.lowered--;
    this.slots.delete(key);
  }
}

/** A held slot; `release` says how the connection it was for ended. */
export interface Permit {
  release(outcome: "ok" | "dropped" | "other"): void;
}
