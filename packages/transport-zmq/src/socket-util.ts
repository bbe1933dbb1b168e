import { LIMITS } from "@uptime/protocol";
import type * as zmq from "zeromq";

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

type Frames = Buffer | string | (Buffer | string)[];

interface Pending {
  frames: Frames;
  onError: ((error: unknown) => void) | undefined;
  onSent: (() => void) | undefined;
}

/**
 * Serialises sends on one socket: zeromq.js allows one `send()` in flight per socket
 * (a second throws EBUSY). Callers push frames; one pump awaits each send in order.
 * The queue itself is bounded by the callers (credit, capacity), not here.
 */
export class SendQueue {
  private readonly queue: Pending[] = [];
  private head = 0;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly socket: zmq.Socket & { send(frames: Frames): Promise<void> },
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** Messages waiting for their turn. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Queues `frames`; `onSent` runs when the socket took them, `onError` if it refused them. */
  push(frames: Frames, onError?: (error: unknown) => void, onSent?: () => void): void {
    if (this.closed) {
      onError?.(new Error("socket closed"));
      return;
    }
    this.queue.push({ frames, onError, onSent });
    if (!this.pumping) void this.pump();
  }

  /** Queues `frames` and resolves when the socket took them. */
  send(frames: Frames): Promise<void> {
    return new Promise((resolve, reject) => this.push(frames, reject, resolve));
  }

  /** Drops everything queued; later pushes fail at once. */
  close(): void {
    this.closed = true;
    const rest = this.queue.splice(this.head);
    this.queue.length = 0;
    this.head = 0;
    for (const p of rest) p.onError?.(new Error("socket closed"));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.head < this.queue.length && !this.closed) {
        const p = this.queue[this.head]!;
        this.queue[this.head] = undefined as unknown as Pending;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        try {
          await this.socket.send(p.frames);
          p.onSent?.();
        } catch (error) {
          if (p.onError) p.onError(error);
          else this.onFailure(error);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** Whether a zeromq error has the given code (EHOSTUNREACH, EAGAIN, ...). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** Counters of rejected frames by reason. */
export class RejectCounter {
  total = 0;
  readonly byCode: Record<string, number> = {};

  add(code: string): void {
    this.total++;
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
  }

  snapshot(): { total: number; byCode: Record<string, number> } {
    return { total: this.total, byCode: { ...this.byCode } };
  }
}

/** A reason a received frame was refused. */
export type RejectCode =
  | "TOO_LARGE"
  | "NOT_UTF8"
  | "NOT_JSON"
  | "NOT_OBJECT"
  | "UNKNOWN_VERSION"
  | "UNKNOWN_KIND"
  | "INVALID"
  | "BAD_FRAMES"
  | "UNEXPECTED_KIND"
  | "UNKNOWN_PEER"
  | "BAD_RECEIPT"
  | "AUTH";

/** What a `reject` event carries. */
export interface RejectInfo {
  code: RejectCode;
  message: string;
  /** The peer's routing id (hex), when known. */
  peer?: string;
}
