import { encode } from "@uptime/protocol";
import type * as zmq from "zeromq";
import { ResultLedger } from "./result-ledger.js";
import { RECEIVE_BATCH, SendQueue, yieldToLoop } from "./socket-util.js";
import type { ResultBody } from "./worker-link-types.js";
import {
  COALESCE_MS,
  createWorkerDealer,
  Loops,
  readMessages,
  type WorkerLinkContext,
  watchLink,
} from "./worker-socket.js";

/**
 * Where the result link stands. Credit is granted only in `up` and `back`. Transitions:
 * - `idle` -> `connecting`: {@link SinkLink.open}.
 * - `connecting` -> `up`: connected (the socket's connect event, or a message from the sink).
 * - any open state -> `lost`: the connection dropped; results without a receipt are sent
 *   again when it returns.
 * - `lost` -> `up`: connected again; every unreceipted result is sent again at once.
 * - `lost` -> `back`: the sink answers before the connect event was seen; the resend waits
 *   for that event (`back` -> `up`), as with `lost`.
 * - `up` -> `up`: a connect event (owed credit is sent).
 * - any -> `closed` (final): {@link SinkLink.close} or {@link SinkLink.destroy}.
 */
export type SinkLinkState = "idle" | "connecting" | "up" | "lost" | "back" | "closed";

/** What the result link reports to the worker link. */
export interface SinkLinkHooks {
  /** A receipt to relay to the dispatcher. */
  onReceipt(frame: Buffer): void;
  /** A message from the sink was handled, or it (re)connected: owed credit may go now. */
  onSinkReady(): void;
  onAuthError(error: Error): void;
}

/**
 * The worker's link to the sink: results out (kept in a ledger until their receipt comes back,
 * sent again after `resendAfterMs` or a reconnect; the sink de-duplicates) and receipts in.
 */
export class SinkLink {
  state: SinkLinkState = "idle";
  resultsSent = 0;
  resultsResent = 0;
  receiptsRelayed = 0;
  private readonly socket: zmq.Dealer;
  private readonly sends: SendQueue;
  private readonly ledger = new ResultLedger();
  private readonly loops = new Loops();
  private readonly emptyWaiters = new Set<() => void>();

  constructor(
    private readonly ctx: WorkerLinkContext,
    private readonly hooks: SinkLinkHooks,
  ) {
    this.socket = createWorkerDealer(ctx, "sink");
    // Results block at the high-water mark (in messages, each up to MAX_BATCH results) when the
    // sink is slow; while it is away no credit is granted, so slots stay busy.
    this.socket.sendHighWaterMark = Math.max(16, ctx.o.window);
    this.sends = new SendQueue(
      this.socket,
      (e) => ctx.warn.warn("send to sink failed", { error: String(e) }),
      COALESCE_MS,
    );
  }

  /** Whether the sink is there to take results (credit may be granted). */
  get reachable(): boolean {
    return this.state === "up" || this.state === "back";
  }

  /** Results sent without a receipt yet. */
  get unreceipted(): number {
    return this.ledger.size;
  }

  /** idle -> connecting. */
  open(): void {
    if (this.state !== "idle") return;
    this.state = "connecting";
    // Observe first: an ipc connect completes inside connect(), before a later observer.
    this.loops.track(
      watchLink(this.socket, "sink", this.ctx, {
        onAuthError: (error) => this.hooks.onAuthError(error),
        onDisconnect: () => {
          if (this.state !== "closed") this.state = "lost";
        },
        onConnect: () => this.onConnect(),
      }),
    );
    this.socket.connect(this.ctx.o.sink);
    this.loops.track(this.receive());
  }

  /** Records `result` as unreceipted and resolves once the socket took it (waits while the sink is slow or away). */
  async send(result: ResultBody): Promise<void> {
    const frame = encode(result);
    this.ledger.record(result.job, result.seq, frame);
    await this.sends.send(undefined, frame);
    this.resultsSent++;
  }

  /** Queues a frame for the sink as it is (a relayed `job-start` or `job-end`). */
  relay(frame: Buffer): void {
    this.sends.push(undefined, frame);
  }

  /** Sends results again whose receipt is older than `ageMs` (all when 0): the sink de-duplicates. */
  resendStale(ageMs: number): void {
    const frames = this.ledger.takeStale(ageMs);
    for (const frame of frames) this.sends.push(undefined, frame);
    this.resultsResent += frames.length;
    if (frames.length > 0) this.ctx.logger.info?.("results sent to the sink again", { count: frames.length });
  }

  /** Resolves when every result sent has its receipt, the link closes, or `timeoutMs` passed. */
  whenReceipted(timeoutMs: number): Promise<void> {
    if (this.ledger.size === 0 || this.state === "closed") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emptyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emptyWaiters.add(done);
    });
  }

  /** -> closed: gives what is queued (relayed messages, resent results) up to `waitMs`, then closes. */
  async close(waitMs: number): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.notifyEmpty();
    await this.sends.drain(waitMs);
    this.sends.close();
    this.socket.close();
  }

  /** -> closed at once, without linger. */
  destroy(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.notifyEmpty();
    this.sends.close();
    this.socket.linger = 0;
    this.socket.close();
  }

  /** Resolves when the receive loop and the event observer have ended. */
  settled(): Promise<void> {
    return this.loops.settled();
  }

  private onConnect(): void {
    if (this.state === "closed" || this.state === "idle") return;
    const returning = this.state === "lost" || this.state === "back";
    this.state = "up";
    if (returning) this.resendStale(0);
    this.hooks.onSinkReady();
  }

  private notifyEmpty(): void {
    for (const done of [...this.emptyWaiters]) done();
  }

  private async receive(): Promise<void> {
    try {
      let handled = 0;
      for await (const frames of this.socket) {
        if (++handled % RECEIVE_BATCH === 0) await yieldToLoop();
        // It answers, whatever the event monitor saw.
        if (this.state === "connecting") this.state = "up";
        else if (this.state === "lost") this.state = "back";
        readMessages(frames, "sink", this.ctx.rejects, (msg, frame) => {
          if (msg.t !== "receipt") {
            this.ctx.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent by a sink`);
            return;
          }
          this.ledger.receipt(msg.job, msg.seqs);
          this.receiptsRelayed++;
          this.hooks.onReceipt(frame);
        });
        // Freed credit rides along with the relayed receipts.
        this.hooks.onSinkReady();
        if (this.ledger.size === 0) this.notifyEmpty();
      }
    } catch (error) {
      if (!this.socket.closed) this.ctx.logger.error?.("sink receive loop stopped", { error: String(error) });
    }
  }
}
