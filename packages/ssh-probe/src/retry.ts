import { setTimeout as sleep } from "node:timers/promises";

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 3000;

/**
 * Wait before retry number `retry` (1-based): exponential from 100 ms, capped at 3 s, drawn uniformly from
 * [d/2, d] so that probes dropped together do not come back together.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const d = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1));
  return d / 2 + random() * (d / 2);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export async function waitBackoff(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw signal.reason;
  }
}
