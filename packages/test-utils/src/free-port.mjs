// Plain JavaScript so that the repository's scripts (scripts/pipeline.mjs: the demo and the benchmarks),
// which Node runs without a TypeScript step, use this one implementation too. Types: free-port.d.mts.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * The lowest port the kernel hands out for outgoing connections and `bind(0)`; ports below it are never
 * taken behind our back by another process's outgoing SSH or ZeroMQ connection.
 */
function ephemeralLow() {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Binds `port` on `host` and releases it: the port bound, or undefined when it is taken. */
function tryListen(port, host) {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(undefined));
    srv.listen(port, host, () => {
      const bound = srv.address().port;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A free loopback port for a server started by port number (sshd, a sender's or sink's `--bind`). It is
 * drawn at random from below the kernel's ephemeral range and checked by binding it: a port from `bind(0)`
 * is an ephemeral one, which an outgoing connection can take between this call and the server's own bind
 * (tests running in parallel open thousands; a worker dialling a sender not bound yet takes a new one on
 * every refused attempt). Seen in CI as "address already in use".
 *
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freePort(host = "127.0.0.1") {
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
