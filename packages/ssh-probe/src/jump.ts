import type { Duplex } from "node:stream";
import type { ClientChannel } from "ssh2";
import type { Connection } from "./connection.js";
import { classifyError, PreBannerError, ProbeError } from "./errors.js";
import { destroyConnection } from "./pool.js";
import { backoffMs } from "./retry.js";

/** One authenticated connection to a bastion, carrying many targets' channels. */
interface Carrier {
  conn: Connection;
  channels: number;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Hop {
  /** Chain up to and including this hop, `a>b`, the key of its carriers. */
  key: string;
  carriers: Carrier[];
  /** A connection being opened (new handshakes per bastion are one at a time). */
  opening: Promise<Carrier> | undefined;
  /** After a failure: the error waiting targets get, until `retryAt`. */
  failure: { error: ProbeError; retryAt: number; failures: number } | undefined;
}

export interface JumpOptions {
  /** Channels one bastion connection carries before another connection to it is opened. */
  channelsPerConnection: number;
  /** A bastion connection without channels is closed after this long. */
  idleTimeoutMs: number;
}

/**
 * Opens a hop's connection; `via` opens the stream to it through the previous hop (undefined for the first).
 * The caller authenticates and host-key-checks it like any target.
 */
export type OpenHop = (
  hop: string,
  via: ((host: string, port: number) => Promise<Duplex>) | undefined,
  signal: AbortSignal,
) => Promise<Connection>;

const BASTION_BACKOFF_MAX_MS = 30_000;

/**
 * Bastion (ProxyJump) connections shared by all targets behind them: each target gets a `direct-tcpip`
 * channel (ssh2 `forwardOut`) on an authenticated connection to the last hop, which is its socket.
 */
export class JumpHosts {
  private readonly hops = new Map<string, Hop>();
  /** Channels whose bastion connection went away under them: their failures name the hop. */
  private readonly lostChannels = new WeakMap<Duplex, string>();

  /** The hop whose connection dropped under `stream`, if it did. */
  lostHop(stream: Duplex): string | undefined {
    return this.lostChannels.get(stream);
  }

  constructor(
    private readonly options: JumpOptions,
    private readonly openHop: OpenHop,
  ) {}

  /** A stream to `host`:`port` through the chain `jump` (first hop first). */
  async channel(jump: string[], host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    const carrier = await this.carrier(jump, signal);
    return this.forward(carrier, jump, host, port, signal);
  }

  private hop(key: string): Hop {
    let hop = this.hops.get(key);
    if (!hop) {
      hop = { key, carriers: [], opening: undefined, failure: undefined };
      this.hops.set(key, hop);
    }
    return hop;
  }

  private async carrier(jump: string[], signal: AbortSignal): Promise<Carrier> {
    const key = jump.join(">");
    const hop = this.hop(key);
    for (;;) {
      if (hop.failure && performance.now() < hop.failure.retryAt) throw hop.failure.error;
      const free = hop.carriers.find(
        (c) => !c.conn.closed && c.channels < this.options.channelsPerConnection,
      );
      if (free) return free;
      if (!hop.opening) {
        hop.opening = this.open(hop, jump, signal).finally(() => {
          hop.opening = undefined;
        });
      }
      try {
        // Another target's opening is shared: its abort must not fail us, so wait, then look again.
        await hop.opening;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (hop.failure) throw hop.failure.error;
        throw err;
      }
    }
  }

  private async open(hop: Hop, jump: string[], signal: AbortSignal): Promise<Carrier> {
    const name = jump[jump.length - 1]!;
    const prefix = jump.slice(0, -1);
    try {
      const via =
        prefix.length === 0
          ? undefined
          : async (host: string, port: number) => this.channel(prefix, host, port, signal);
      const conn = await this.openHop(name, via, signal);
      const carrier: Carrier = { conn, channels: 0, idleTimer: undefined };
      // Every channel in flight listens for this connection's close: by design, up to channelsPerConnection.
      conn.client.setMaxListeners(0);
      hop.carriers.push(carrier);
      hop.failure = undefined;
      const forget = () => {
        const i = hop.carriers.indexOf(carrier);
        if (i >= 0) hop.carriers.splice(i, 1);
        clearTimeout(carrier.idleTimer);
      };
      conn.client.once("close", forget);
      this.idle(hop, carrier);
      return carrier;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const e = withHop(classifyError(err, "connect", name), name);
      // Everyone waiting for this bastion fails now; the next try waits a backoff.
      const failures = (hop.failure?.failures ?? 0) + 1;
      const wait = Math.min(BASTION_BACKOFF_MAX_MS, backoffMs(failures) * 10);
      hop.failure = { error: e, retryAt: performance.now() + wait, failures };
      throw e;
    }
  }

  private forward(carrier: Carrier, jump: string[], host: string, port: number, signal: AbortSignal) {
    const hopName = jump[jump.length - 1]!;
    carrier.channels++;
    clearTimeout(carrier.idleTimer);
    carrier.idleTimer = undefined;
    const done = () => {
      carrier.channels--;
      if (carrier.channels === 0) this.idle(this.hop(jump.join(">")), carrier);
    };
    return new Promise<Duplex>((resolve, reject) => {
      if (signal.aborted) {
        done();
        return reject(signal.reason);
      }
      const onClose = () => {
        // The bastion went away mid-run: the targets over it may try again (before their command started).
        fail(withHop(new PreBannerError("CLOSED", `connection to bastion ${hopName} lost`), hopName));
      };
      const onAbort = () => fail(signal.reason);
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        carrier.conn.client.removeListener("close", onClose);
        signal.removeEventListener("abort", onAbort);
        done();
        reject(e);
      };
      carrier.conn.client.once("close", onClose);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        carrier.conn.client.forwardOut("127.0.0.1", 0, host, port, (err, channel: ClientChannel) => {
          if (settled) {
            channel?.destroy();
            return;
          }
          if (err) {
            // The bastion refused the channel: the target is unreachable from it (or forwarding is off).
            return fail(
              withHop(
                new ProbeError(
                  "UNREACHABLE",
                  `bastion ${hopName} cannot open ${host}:${port}: ${err.message}`,
                ),
                hopName,
              ),
            );
          }
          settled = true;
          signal.removeEventListener("abort", onAbort);
          carrier.conn.client.removeListener("close", onClose);
          const onCarrierClose = () => this.lostChannels.set(channel, hopName);
          carrier.conn.client.once("close", onCarrierClose);
          channel.once("close", () => {
            // ssh2 closes the channels of a lost connection before its own close event: look once more then.
            setImmediate(() => carrier.conn.client.removeListener("close", onCarrierClose));
            done();
          });
          resolve(channel);
        });
      } catch (err) {
        fail(withHop(new PreBannerError("CLOSED", `bastion ${hopName}: ${(err as Error).message}`), hopName));
      }
    });
  }

  private idle(hop: Hop, carrier: Carrier): void {
    clearTimeout(carrier.idleTimer);
    carrier.idleTimer = setTimeout(() => {
      if (carrier.channels > 0) return;
      const i = hop.carriers.indexOf(carrier);
      if (i >= 0) hop.carriers.splice(i, 1);
      destroyConnection(carrier.conn);
    }, this.options.idleTimeoutMs);
    carrier.idleTimer.unref();
  }

  /** Bastion connections open (for stats and tests). */
  get connections(): number {
    let n = 0;
    for (const hop of this.hops.values()) n += hop.carriers.length;
    return n;
  }

  closeAll(): void {
    for (const hop of this.hops.values()) {
      for (const c of hop.carriers) {
        clearTimeout(c.idleTimer);
        destroyConnection(c.conn);
      }
      hop.carriers = [];
    }
  }
}

/** The error with the hop that failed named (`error.hop` in results). */
export function withHop<E extends ProbeError>(e: E, hop: string): E {
  if (e.hop === undefined) e.hop = hop;
  return e;
}
