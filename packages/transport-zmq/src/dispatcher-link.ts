import { encode, type Message, type Task } from "@uptime/protocol";
import type * as zmq from "zeromq";
import { RECEIVE_BATCH, SendQueue, yieldToLoop } from "./socket-util.js";
import {
  COALESCE_MS,
  createWorkerDealer,
  Loops,
  readMessages,
  type WorkerLinkContext,
  watchLink,
} from "./worker-socket.js";

/**
 * Where the task link stands. Transitions:
 * - `idle` -> `connecting`: {@link DispatcherLink.open} (socket dialled, `ready` queued).
 * - `connecting` -> `ready`: the first message from the dispatcher (the `connected` event).
 * - `ready` | `connecting` -> `connecting`: a lost connection or silence past the heartbeat
 *   timeout; the socket is recreated and a fresh `ready` sent (Paranoid Pirate).
 *   Leaving `ready` is the `disconnected` event.
 * - any -> `closed` (final): {@link DispatcherLink.close} or {@link DispatcherLink.destroy}.
 */
export type DispatcherLinkState = "idle" | "connecting" | "ready" | "closed";

/** What the task link asks of and reports to the worker link. */
export interface DispatcherLinkHooks {
  /** Tasks held now: in heartbeats, and in the warning when a connection is lost. */
  held(): number;
  /** A connection is being opened: the credit to advertise in its `ready`. */
  onOpen(): number;
  onTask(task: Task): void;
  onStop(msg: Extract<Message, { t: "stop" }>): void;
  /** A `job-start` or `job-end` to pass on to the sink. */
  onRelay(frame: Buffer): void;
  onConnected(): void;
  onDisconnected(info: { reason: string; held: number }): void;
  onAuthError(error: Error): void;
}

/**
 * The worker's link to the dispatcher: one DEALER at a time, recreated after a lost connection
 * or silence, heartbeats both ways, and the kinds of message a dispatcher sends.
 */
export class DispatcherLink {
  state: DispatcherLinkState = "idle";
  /** Times the socket was recreated. */
  reconnects = 0;
  /** Tasks received (also duplicates and those over credit). */
  tasksReceived = 0;
  private dealer: zmq.Dealer | undefined;
  private sends: SendQueue | undefined;
  private lastHeard = 0;
  private openedAt = 0;
  /** A lost connection seen within a heartbeat period of the last dial: the next tick re-dials. */
  private resetDue = false;
  private readonly loops = new Loops();

  constructor(
    private readonly ctx: WorkerLinkContext,
    private readonly hooks: DispatcherLinkHooks,
  ) {}

  /** idle -> connecting. */
  open(): void {
    if (this.state !== "idle") return;
    this.dial();
  }

  /** Queues `frame` for the dispatcher (dropped before `open` and after `close`). */
  send(frame: Buffer): void {
    this.sends?.push(undefined, frame);
  }

  /**
   * Once per heartbeat period: recreates a silent link (and returns false), else sends a heartbeat.
   */
  tick(): boolean {
    if (this.state !== "connecting" && this.state !== "ready") return false;
    if (performance.now() - this.lastHeard > this.ctx.o.heartbeatTimeoutMs) {
      this.reset("dispatcher silent");
      return false;
    }
    if (this.resetDue && performance.now() - this.openedAt > this.ctx.o.heartbeatIntervalMs) {
      this.reset("connection to dispatcher lost");
      return false;
    }
    this.send(encode({ t: "heartbeat", from: this.ctx.o.id, inFlight: this.hooks.held() }));
    return true;
  }

  /** -> closed: says `bye` (waiting at most `byeMs` for the socket to take it) and closes. */
  async close(byeMs: number): Promise<void> {
    if (this.state === "closed") return;
    const opened = this.state !== "idle";
    this.state = "closed";
    if (!opened) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.sends!.send(undefined, encode({ t: "bye", worker: this.ctx.o.id })).catch(() => {}),
      new Promise((r) => {
        timer = setTimeout(r, byeMs);
      }),
    ]);
    clearTimeout(timer);
    this.sends!.close();
    this.dealer!.close();
  }

  /** -> closed at once, without `bye` or linger. */
  destroy(): void {
    if (this.state === "closed") return;
    const opened = this.state !== "idle";
    this.state = "closed";
    if (!opened) return;
    this.sends!.close();
    this.dealer!.linger = 0;
    this.dealer!.close();
  }

  /** Resolves when the receive loops and event observers of every socket it opened have ended. */
  settled(): Promise<void> {
    return this.loops.settled();
  }

  private dial(): void {
    const d = createWorkerDealer(this.ctx, "dispatcher");
    this.dealer = d;
    this.sends = new SendQueue(
      d,
      (e) => this.ctx.warn.warn("send to dispatcher failed", { error: String(e) }),
      COALESCE_MS,
    );
    this.state = "connecting";
    this.resetDue = false;
    // Observe first: an ipc connect completes inside connect(), before a later observer.
    this.loops.track(
      watchLink(d, "dispatcher", this.ctx, {
        onAuthError: (error) => this.hooks.onAuthError(error),
        onDisconnect: () => {
          if (d !== this.dealer) return;
          // Not more often than once per heartbeat period (a refused handshake also disconnects);
          // a loss inside that period is not forgotten: ZeroMQ would reconnect this socket to a
          // restarted dispatcher on its own, without the `ready` that makes it known there.
          if (performance.now() - this.openedAt > this.ctx.o.heartbeatIntervalMs) {
            this.reset("connection to dispatcher lost");
          } else {
            this.resetDue = true;
          }
        },
      }),
    );
    d.connect(this.ctx.o.dispatcher);
    this.lastHeard = performance.now();
    this.openedAt = this.lastHeard;
    const credit = this.hooks.onOpen();
    this.send(encode({ t: "ready", worker: this.ctx.o.id, capacity: this.ctx.o.capacity, credit }));
    this.loops.track(this.receive(d));
  }

  /** ready | connecting -> connecting, on a new socket. */
  private reset(reason: string): void {
    if (this.state !== "connecting" && this.state !== "ready") return;
    const held = this.hooks.held();
    if (this.state === "ready") this.hooks.onDisconnected({ reason, held });
    // Re-dialling a sender that is away (between jobs, or not started yet) is routine: only a loss
    // with tasks in hand is worth a warning.
    if (held > 0) this.ctx.logger.warn?.("recreating dispatcher link", { reason, held });
    else this.ctx.logger.debug?.("recreating dispatcher link", { reason });
    this.reconnects++;
    const old = this.dealer!;
    this.sends!.close();
    old.linger = 0;
    old.close();
    this.dial();
  }

  private async receive(d: zmq.Dealer): Promise<void> {
    try {
      let handled = 0;
      for await (const frames of d) {
        if (this.dealer !== d) break;
        // Yield now and then: heartbeats, grants and result sends keep their schedule under a flood.
        if (++handled % RECEIVE_BATCH === 0) await yieldToLoop();
        readMessages(frames, "dispatcher", this.ctx.rejects, (msg, frame) => this.onMessage(msg, frame));
      }
    } catch (error) {
      if (!d.closed) this.ctx.logger.error?.("dispatcher receive loop stopped", { error: String(error) });
    }
  }

  private onMessage(msg: Message, frame: Buffer): void {
    this.lastHeard = performance.now();
    if (this.state === "connecting") {
      this.state = "ready";
      this.hooks.onConnected();
    }
    switch (msg.t) {
      case "task":
        this.tasksReceived++;
        this.hooks.onTask(msg);
        return;
      case "heartbeat":
        return;
      case "job-start":
      case "job-end":
        this.hooks.onRelay(frame);
        return;
      case "stop":
        this.hooks.onStop(msg);
        return;
      default:
        this.ctx.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent by a dispatcher`);
    }
  }
}
