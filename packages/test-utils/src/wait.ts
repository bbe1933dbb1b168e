/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms. @default 2000 */
  timeoutMs?: number;
  /** Pause between checks. @default 10 */
  intervalMs?: number;
  /** What is awaited, for the error message. @default "the condition" */
  what?: string;
}

/**
 * Resolves once `check` returns (or resolves to) true; rejects with `timed out after N ms waiting for <what>`
 * otherwise. For state a test cannot subscribe to (a peer's socket count, a file appearing).
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 2000, intervalMs = 10, what = "the condition" }: WaitForOptions = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
