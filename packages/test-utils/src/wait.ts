import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * The lowest port the kernel hands out for outgoing connections and `bind(0)`; ports below it are never
 * taken behind a test's back by another test's SSH or ZeroMQ connection.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

function tryListen(port: number, host: string): Promise<number | undefined> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(undefined));
    srv.listen(port, host, () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A free loopback port for a server a test starts by port number (sshd, a sender's `--bind`). It is drawn
 * at random from below the kernel's ephemeral range and checked by binding it: a port from `bind(0)` is an
 * ephemeral one, which the many outgoing connections of tests running in parallel can take between this
 * call and the server's own bind (seen in CI as "address already in use").
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 16_000);
  for (let i = 0; i < 64; i++) {
    const port = await tryListen(low + Math.floor(Math.random() * (high - low + 1)), host);
    if (port !== undefined) return port;
  }
  const port = await tryListen(0, host);
  if (port === undefined) throw new Error(`no free port on ${host}`);
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
