import { type DecodeErrorCode, LIMITS } from "@uptime/protocol";
import type * as zmq from "zeromq";
import type { RateLimitedWarn } from "./rate-limited-warn.js";

/** Socket options every link sets deliberately (never the libzmq defaults). */
export interface LinkSocketOptions {
  lingerMs: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
}

/** Applies linger, high-water marks, the frame limit and ZMTP heartbeats through setters. */
export function configureSocket(socket: zmq.Router | zmq.Dealer, o: LinkSocketOptions): void {
  socket.linger = o.lingerMs;
  socket.sendHighWaterMark = o.sendHighWaterMark;
  socket.receiveHighWaterMark = o.receiveHighWaterMark;
  // A peer cannot make us allocate more than one protocol frame (ZMQ resets the connection instead).
  socket.maxMessageSize = LIMITS.maxFrameBytes + 1024;
  if (o.heartbeatIntervalMs > 0) {
    socket.heartbeatInterval = o.heartbeatIntervalMs;
    socket.heartbeatTimeout = o.heartbeatTimeoutMs;
    socket.heartbeatTimeToLive = o.heartbeatTimeoutMs;
  }
}

/**
 * Most protocol messages carried by one ZeroMQ message. Each frame of a ZeroMQ message
 * is one complete protocol message (after the routing id on a ROUTER); batching them
 * saves a send and a receive per message under load.
 */
export const MAX_BATCH = 256;

/** Messages a receive loop handles in one go before it yields to timers and sends. */
export const RECEIVE_BATCH = 64;

/** Resolves after pending I/O and timers have had their turn. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Pending {
  /** Routing id for a ROUTER, undefined on a DEALER. */
  to: Buffer | undefined;
  body: Buffer;
  onError: ((error: unknown) => void) | undefined;
  onSent: (() => void) | undefined;
}

/**
 * Serialises sends on one socket: zeromq.js allows one `send()` in flight per socket
 * (a second throws EBUSY). Callers push messages; one pump awaits each send in order.
 *
 * Sends are coalesced: a push does not send at once but at the end of the current
 * event-loop turn (`setImmediate`), so everything pushed in one turn, and everything
 * pushed while a send is in flight, leaves as one multipart message per peer (at most
 * {@link MAX_BATCH} frames). With `coalesceMs` > 0 a socket that sent less than
 * `coalesceMs` ago waits out the rest of that window first: messages that trickle in
 * one by one (results finishing at random times) then share a send, at a cost of at
 * most `coalesceMs` of latency, and a quiet socket still sends at the end of the turn.
 * Each send costs far more CPU (JS, libzmq's threads, a syscall each side) than
 * one more frame in it. The queue itself is bounded by the callers (credit, capacity).
 */
export class SendQueue {
  private queue: Pending[] = [];
  private head = 0;
  private pumping = false;
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private scheduledTimer = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly drainWaiters = new Set<() => void>();
  private readonly run = () => {
    this.scheduled = undefined;
    void this.pump();
  };

  constructor(
    private readonly socket: { send(frames: Buffer[]): Promise<void> },
    private readonly onFailure: (error: unknown) => void,
    private readonly coalesceMs = 0,
  ) {}

  /** Messages waiting for their turn. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues `body` (for peer `to` on a ROUTER); `onSent` runs when the socket took it, `onError` if not. */
  push(to: Buffer | undefined, body: Buffer, onError?: (error: unknown) => void, onSent?: () => void): void {
    if (this.closed) {
      onError?.(new Error("socket closed"));
      return;
    }
    this.queue.push({ to, body, onError, onSent });
    if (!this.pumping && this.scheduled === undefined) this.schedule();
  }

  /** Queues `body` and resolves when the socket took it. */
  send(to: Buffer | undefined, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.push(to, body, reject, resolve));
  }

  /** Resolves when everything queued was handed to the socket (or the queue closed), or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.drainWaiters.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.drainWaiters.add(finish);
    });
  }

  private get idle(): boolean {
    return this.closed || (!this.pumping && this.head >= this.queue.length);
  }

  private notifyDrained(): void {
    if (!this.idle || this.drainWaiters.size === 0) return;
    for (const finish of [...this.drainWaiters]) finish();
  }

  /** Drops everything queued; later pushes fail at once. */
  close(): void {
    this.closed = true;
    this.unschedule();
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const p of rest) p.onError?.(new Error("socket closed"));
    this.notifyDrained();
  }

  private schedule(): void {
    const wait = this.coalesceMs - (performance.now() - this.lastSentAt);
    // A timer has millisecond resolution: below that, the end of the turn is as good.
    this.scheduledTimer = wait >= 1;
    this.scheduled = this.scheduledTimer ? setTimeout(this.run, wait) : setImmediate(this.run);
  }

  private unschedule(): void {
    const s = this.scheduled;
    this.scheduled = undefined;
    if (s === undefined) return;
    if (this.scheduledTimer) clearTimeout(s as NodeJS.Timeout);
    else clearImmediate(s as NodeJS.Immediate);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const batch: Pending[] = [];
    try {
      while (this.head < this.queue.length && !this.closed) {
        const first = this.queue[this.head++]!;
        batch.length = 0;
        batch.push(first);
        const to = first.to;
        const frames: Buffer[] = to ? [to, first.body] : [first.body];
        while (this.head < this.queue.length && batch.length < MAX_BATCH) {
          const next = this.queue[this.head]!;
          // Callers pass the same Buffer for a peer; equals() only for a copy of it.
          if (next.to !== to && !(next.to && to && next.to.equals(to))) break;
          frames.push(next.body);
          batch.push(next);
          this.head++;
        }
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head > 4096) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        try {
          await this.socket.send(frames);
          for (const p of batch) p.onSent?.();
        } catch (error) {
          for (const p of batch) {
            if (p.onError) p.onError(error);
            else this.onFailure(error);
          }
        }
      }
    } finally {
      this.pumping = false;
      this.lastSentAt = performance.now();
      // Pushed after the loop saw an empty queue (from an onSent callback): next window.
      if (this.head < this.queue.length && !this.closed && this.scheduled === undefined) this.schedule();
      this.notifyDrained();
    }
  }
}

/** Whether a zeromq error has the given code (EHOSTUNREACH, EAGAIN, ...). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** Frames refused: counted by reason, logged (rate-limited) and reported to `onReject` (a `reject` event). */
export class RejectCounter {
  total = 0;
  readonly byCode: Record<string, number> = {};

  constructor(
    private readonly who: string,
    private readonly warn: RateLimitedWarn,
    private readonly onReject: (info: RejectInfo) => void,
  ) {}

  add(code: RejectCode, message: string, peer?: string): void {
    this.total++;
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    const info: RejectInfo = { code, message };
    if (peer !== undefined) info.peer = peer;
    this.warn.warn(
      `${this.who} rejected a frame: ${message}`,
      peer !== undefined ? { code, peer } : { code },
    );
    this.onReject(info);
  }

  snapshot(): { total: number; byCode: Record<string, number> } {
    return { total: this.total, byCode: { ...this.byCode } };
  }
}

/** A reason a received frame was refused: the protocol's decode errors, then the transport's own. */
export type RejectCode =
  | DecodeErrorCode
  | "BAD_FRAMES"
  | "UNEXPECTED_KIND"
  | "UNKNOWN_PEER"
  | "BAD_RECEIPT"
  | "OVER_CREDIT"
  | "CUT_OFF"
  | "AUTH"
  | "HANDSHAKE";

/** What a `reject` event carries. */
export interface RejectInfo {
  code: RejectCode;
  message: string;
  /** The peer's routing id (hex), when known. */
  peer?: string;
}

/**
 * Watches a server socket for failed handshakes other than ZAP refusals (those are
 * reported by the ZAP handler): a peer without CURVE talking to a CURVE server, or a
 * peer that does not speak ZMTP. Ends when the socket closes.
 */
export async function observeHandshakes(
  socket: zmq.Router,
  onFailure: (message: string, address: string) => void,
): Promise<void> {
  try {
    for await (const event of socket.events) {
      if (event.type === "handshake:error:protocol" || event.type === "handshake:error:other") {
        onFailure(`handshake failed: ${event.error.message}`, event.address);
      }
    }
  } catch {
    // the socket closed under the observer
  }
}
