import { randomBytes } from "node:crypto";
import { decode, type Message } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import * as zmq from "zeromq";
import { applyCurveClient } from "./curve.js";
import type { RateLimitedWarn } from "./rate-limited-warn.js";
import { configureSocket, MAX_BATCH, type RejectCounter } from "./socket-util.js";
import type { ResolvedWorkerLinkOptions } from "./worker-link-options.js";
import type { WorkerCurveOptions } from "./worker-link-types.js";

/** Which of a worker's two links: tasks from the dispatcher, or results to the sink. */
export type LinkName = "dispatcher" | "sink";

/** What the parts of a {@link WorkerLink} share: its checked options, where to log, the reject count. */
export interface WorkerLinkContext {
  readonly o: ResolvedWorkerLinkOptions;
  readonly curve: WorkerCurveOptions | undefined;
  readonly logger: Logger;
  readonly warn: RateLimitedWarn;
  readonly rejects: RejectCounter;
}

/**
 * Results finish one by one at random times: a send to the sink (or the dispatcher) waits
 * until this long after the previous one, so that what finishes meanwhile shares one ZeroMQ
 * message. A quiet link sends at once (end of the turn); only a busy one waits, at most this.
 * Measured (bench:transport, PROBE_MS=500, 2 x 500 slots): 170 us of CPU per task over all
 * sides with no window, 143 with 2 ms, 106 with 5 ms.
 */
export const COALESCE_MS = 5;

/** A DEALER for one of the worker's links: options set deliberately, CURVE when keyed for that server. */
export function createWorkerDealer(ctx: WorkerLinkContext, link: LinkName): zmq.Dealer {
  const d = new zmq.Dealer();
  configureSocket(d, {
    lingerMs: ctx.o.lingerMs,
    sendHighWaterMark: 10_000,
    receiveHighWaterMark: 10_000,
    heartbeatIntervalMs: ctx.o.heartbeatIntervalMs,
    heartbeatTimeoutMs: ctx.o.heartbeatTimeoutMs,
  });
  d.routingId = `${link === "sink" ? "s" : "d"}-${randomBytes(8).toString("hex")}`;
  d.reconnectInterval = 100;
  d.reconnectMaxInterval = 2000;
  const serverKey = link === "sink" ? ctx.curve?.sinkKey : ctx.curve?.dispatcherKey;
  if (ctx.curve && serverKey) {
    applyCurveClient(d, { ...ctx.curve, serverKey }, `options.curve (${link})`);
  }
  return d;
}

/**
 * Hands each protocol message of one ZeroMQ message from `link` to `each`, with its frame. A
 * message of too many frames is refused whole; a frame that does not decode is refused alone.
 */
export function readMessages(
  frames: Buffer[],
  link: LinkName,
  rejects: RejectCounter,
  each: (message: Message, frame: Buffer) => void,
): void {
  if (frames.length > MAX_BATCH) {
    rejects.add("BAD_FRAMES", `${frames.length} frames in one message from the ${link}, over ${MAX_BATCH}`);
    return;
  }
  for (const frame of frames) {
    const r = decode(frame);
    if (r.ok) each(r.message, frame);
    else rejects.add(r.error.code, `from the ${link}: ${r.error.message}`);
  }
}

/** What {@link watchLink} reports besides refused CURVE keys. */
export interface LinkEventHandlers {
  onConnect?(): void;
  onDisconnect?(): void;
  onAuthError(error: Error): void;
}

/**
 * Follows a link's socket events until the socket closes: a refused CURVE key is logged
 * (rate-limited) and reported with code `AUTH`; connects and disconnects go to the link.
 */
export async function watchLink(
  socket: zmq.Dealer,
  link: LinkName,
  ctx: WorkerLinkContext,
  on: LinkEventHandlers,
): Promise<void> {
  try {
    for await (const event of socket.events) {
      if (event.type === "handshake:error:auth") {
        const error = Object.assign(
          new Error(`${link} refused our CURVE key (${event.error.message}); is it on the allow-list?`),
          { code: "AUTH" },
        );
        ctx.warn.warn(error.message, { link, address: event.address });
        on.onAuthError(error);
      } else if (event.type === "disconnect") {
        on.onDisconnect?.();
      } else if (event.type === "connect") {
        on.onConnect?.();
      }
    }
  } catch (error) {
    if (!socket.closed) ctx.logger.warn?.("event observer stopped", { link, error: String(error) });
  }
}

/** Promises of a part's loops, so that closing can wait for them. */
export class Loops {
  private readonly running = new Set<Promise<void>>();

  track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves when every tracked loop has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }
}
