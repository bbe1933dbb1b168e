import { createServer } from "node:net";

/** A free loopback port: bind port 0, read it, release it. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, host, () => resolve());
  });
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

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
