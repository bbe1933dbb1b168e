import { randomBytes } from "node:crypto";
import { decode, encode, type Message, type Task } from "@uptime/protocol";
import * as zmq from "zeromq";
import { applyCurveClient } from "./curve.js";
import { TypedEmitter } from "./emitter.js";
import { type Logger, RateLimitedWarn, silentLogger } from "./logger.js";
import { ResultLedger, taskKey } from "./result-ledger.js";
import {
  configureSocket,
  MAX_BATCH,
  RECEIVE_BATCH,
  RejectCounter,
  SendQueue,
  yieldToLoop,
} from "./socket-util.js";
import {
  type ResolvedWorkerLinkOptions,
  resolveWorkerCurve,
  resolveWorkerLinkOptions,
} from "./worker-link-options.js";
import type {
  ResultBody,
  WorkerCurveOptions,
  WorkerLinkEvents,
  WorkerLinkMetrics,
  WorkerLinkOptions,
} from "./worker-link-types.js";

const keyOf = taskKey;

/**
 * Results finish one by one at random times: a send to the sink (or the dispatcher) waits
 * until this long after the previous one, so that what finishes meanwhile shares one ZeroMQ
 * message. A quiet link sends at once (end of the turn); only a busy one waits, at most this.
 * Measured (bench:transport, PROBE_MS=500, 2 x 500 slots): 170 us of CPU per task over all
 * sides with no window, 143 with 2 ms, 106 with 5 ms.
 */
const COALESCE_MS = 5;
/** Freed slots are granted back together, at most this long after the first of them. */
const GRANT_MS = 10;

/**
 * The worker's side: connects to the dispatcher and the sink, advertises credit from
 * its free capacity, yields tasks, forwards results to the sink and relays the sink's
 * receipts to the dispatcher. Recreates its dispatcher socket after silence
 * (Paranoid Pirate) and resends results that lost their receipt.
 *
 * @example
 * const link = new WorkerLink({ dispatcher: "tcp://127.0.0.1:5557", sink: "tcp://127.0.0.1:5558", id: "w1", capacity: 100 });
 * await link.start();
 * for await (const task of link.tasks()) {
 *   void probe(task.target).then((r) => link.sendResult({ t: "result", job: task.job, seq: task.seq, ...r }));
 * }
 */
export class WorkerLink extends TypedEmitter<WorkerLinkEvents> {
  private readonly o: ResolvedWorkerLinkOptions;
  private readonly curve: WorkerCurveOptions | undefined;
  private readonly logger: Logger;
  private readonly warn: RateLimitedWarn;
  private readonly window: number;
  private readonly grantBatch: number;
  private dealer!: zmq.Dealer;
  private dealerSends!: SendQueue;
  private readonly sink: zmq.Dealer;
  private readonly sinkSends: SendQueue;
  private readonly queue: Task[] = [];
  private queueHead = 0;
  private wake: (() => void) | undefined;
  private readonly held = new Map<string, Task>();
  private readonly unreceipted = new ResultLedger();
  private pendingGrant = 0;
  private grantTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private openedAt = 0;
  private connected = false;
  private started = false;
  private closed = false;
  private closing = false;
  private sinkDropped = false;
  private sinkUp = false;
  private drained: (() => void) | undefined;
  private readonly loops = new Set<Promise<void>>();
  private readonly rejects: RejectCounter;
  private readonly counters = {
    tasksReceived: 0,
    resultsSent: 0,
    resultsResent: 0,
    creditGranted: 0,
    creditMessages: 0,
    receiptsRelayed: 0,
    reconnects: 0,
  };

  constructor(options: WorkerLinkOptions) {
    super();
    this.o = resolveWorkerLinkOptions(options);
    this.curve = resolveWorkerCurve(options.curve);
    this.window = this.o.window;
    this.grantBatch = Math.max(1, Math.ceil(this.window / 10));
    this.logger = options.logger ?? silentLogger;
    this.warn = new RateLimitedWarn(this.logger);
    this.rejects = new RejectCounter("worker", this.warn, (info) => this.emit("reject", info));
    this.sink = this.createDealer("sink");
    // Results block at the high-water mark (in messages, each up to MAX_BATCH results) when the
    // sink is slow; while it is away no credit is granted (flushGrant), so slots stay busy.
    this.sink.sendHighWaterMark = Math.max(16, this.window);
    this.sinkSends = new SendQueue(
      this.sink,
      (e) => this.warn.warn("send to sink failed", { error: String(e) }),
      COALESCE_MS,
    );
  }

  /** Connects both links and sends `ready`. */
  async start(): Promise<void> {
    if (this.started) throw new TypeError("WorkerLink.start: already started");
    this.started = true;
    // Observe first: an ipc connect completes inside connect(), before a later observer.
    this.track(this.observe(this.sink, "sink"));
    this.sink.connect(this.o.sink);
    this.track(this.receiveSink());
    this.openDispatcher();
    this.tickTimer = setInterval(() => this.tick(), this.o.heartbeatIntervalMs);
  }

  /** Tasks as they arrive. One consumer; ends when the link closes. */
  async *tasks(): AsyncIterableIterator<Task> {
    while (!this.closed) {
      if (this.queueHead < this.queue.length) {
        const task = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as unknown as Task;
        if (this.queueHead === this.queue.length) {
          this.queue.length = 0;
          this.queueHead = 0;
        }
        if (!this.held.has(keyOf(task.job, task.seq))) continue; // stopped meanwhile
        yield task;
      } else {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    }
  }

  /**
   * Hands a result to the sink socket; resolves once the socket took it (waits while the
   * sink is slow or away) and frees one credit. The sink's receipt is relayed later.
   */
  async sendResult(result: ResultBody): Promise<void> {
    if (this.closed) throw new Error("WorkerLink.sendResult: link is closed");
    const frame = encode(result);
    const key = keyOf(result.job, result.seq);
    this.unreceipted.record(result.job, result.seq, frame);
    await this.sinkSends.send(undefined, frame);
    this.counters.resultsSent++;
    if (this.held.delete(key)) this.grant(1);
  }

  /**
   * Gives back the slot of a task that will get no result, e.g. one of a job the
   * dispatcher stopped (its `stop` event). Without a result or a release the slot stays taken.
   */
  release(task: { job: string; seq: number }): void {
    if (this.held.delete(keyOf(task.job, task.seq))) this.grant(1);
  }

  metrics(): WorkerLinkMetrics {
    return {
      connected: this.connected,
      capacity: this.o.capacity,
      window: this.window,
      held: this.held.size,
      queued: this.queue.length - this.queueHead,
      unreceipted: this.unreceipted.size,
      ...this.counters,
      rejects: this.rejects.snapshot(),
    };
  }

  /**
   * Stops granting credit, waits (up to `drainMs`) for outstanding receipts, says `bye` so
   * the dispatcher requeues what is left at once, and closes both sockets (bounded by linger).
   * Finish or release running tasks first to have their results count.
   */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.started && this.unreceipted.size > 0 && this.o.drainMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.drainMs);
        this.drained = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    if (this.closed) return; // destroyed while draining
    this.closed = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.grantTimer);
    this.wake?.();
    if (this.started) {
      await Promise.race([
        this.dealerSends.send(undefined, encode({ t: "bye", worker: this.o.id })).catch(() => {}),
        new Promise((r) => setTimeout(r, Math.min(500, this.o.lingerMs))),
      ]);
      this.dealerSends.close();
      this.dealer.close();
    }
    // Relayed job-start/job-end and resent results still queued for the sink: give them a moment.
    await this.sinkSends.drain(Math.min(500, this.o.lingerMs));
    this.sinkSends.close();
    this.sink.close();
    await Promise.all(this.loops);
  }

  /**
   * Closes both sockets at once, without `bye`, drain or linger (a second SIGINT). The
   * dispatcher requeues this worker's unreceipted tasks when its heartbeats stop.
   */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.grantTimer);
    this.drained?.();
    this.wake?.();
    this.sinkSends.close();
    this.sink.linger = 0;
    this.sink.close();
    if (this.started) {
      this.dealerSends.close();
      this.dealer.linger = 0;
      this.dealer.close();
    }
    await Promise.all(this.loops);
  }

  private createDealer(link: "dispatcher" | "sink"): zmq.Dealer {
    const d = new zmq.Dealer();
    configureSocket(d, {
      lingerMs: this.o.lingerMs,
      sendHighWaterMark: 10_000,
      receiveHighWaterMark: 10_000,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.o.heartbeatTimeoutMs,
    });
    d.routingId = `${link === "sink" ? "s" : "d"}-${randomBytes(8).toString("hex")}`;
    d.reconnectInterval = 100;
    d.reconnectMaxInterval = 2000;
    const serverKey = link === "sink" ? this.curve?.sinkKey : this.curve?.dispatcherKey;
    if (this.curve && serverKey) {
      applyCurveClient(d, { ...this.curve, serverKey }, `WorkerLink options.curve (${link})`);
    }
    return d;
  }

  private openDispatcher(): void {
    const d = this.createDealer("dispatcher");
    this.dealer = d;
    this.dealerSends = new SendQueue(
      d,
      (e) => this.warn.warn("send to dispatcher failed", { error: String(e) }),
      COALESCE_MS,
    );
    this.track(this.observe(d, "dispatcher"));
    d.connect(this.o.dispatcher);
    this.lastHeard = performance.now();
    this.openedAt = this.lastHeard;
    // A fresh connection starts from the free window; grants before it are void.
    this.pendingGrant = 0;
    const credit = Math.max(0, this.window - this.held.size);
    this.dealerSends.push(
      undefined,
      encode({ t: "ready", worker: this.o.id, capacity: this.o.capacity, credit }),
    );
    this.track(this.receiveDispatcher(d));
  }

  private resetDispatcher(reason: string): void {
    if (this.closed) return;
    const held = this.held.size;
    if (this.connected) {
      this.connected = false;
      this.emit("disconnected", { reason, held });
    }
    // Re-dialling a sender that is away (between jobs, or not started yet) is routine: only a loss
    // with tasks in hand is worth a warning.
    if (held > 0) this.logger.warn("recreating dispatcher link", { reason, held });
    else this.logger.debug?.("recreating dispatcher link", { reason });
    this.counters.reconnects++;
    const old = this.dealer;
    this.dealerSends.close();
    old.linger = 0;
    old.close();
    this.openDispatcher();
  }

  private track(p: Promise<void>): void {
    this.loops.add(p);
    void p.finally(() => this.loops.delete(p));
  }

  private async receiveDispatcher(d: zmq.Dealer): Promise<void> {
    try {
      let handled = 0;
      for await (const frames of d) {
        if (this.dealer !== d) break;
        // Yield now and then: heartbeats, grants and result sends keep their schedule under a flood.
        if (++handled % RECEIVE_BATCH === 0) await yieldToLoop();
        this.onDispatcherFrames(frames);
      }
    } catch (error) {
      if (!d.closed) this.logger.error?.("dispatcher receive loop stopped", { error: String(error) });
    }
  }

  private onDispatcherFrames(frames: Buffer[]): void {
    if (!this.checkBatch(frames, "dispatcher")) return;
    for (const frame of frames) {
      const msg = this.decodeFrame(frame, "dispatcher");
      if (msg) this.onDispatcherMessage(msg, frame);
    }
  }

  private onDispatcherMessage(msg: Message, frame: Buffer): void {
    this.lastHeard = performance.now();
    if (!this.connected) {
      this.connected = true;
      this.emit("connected");
    }
    switch (msg.t) {
      case "task":
        this.onTask(msg);
        return;
      case "heartbeat":
        return;
      case "job-start":
      case "job-end":
        this.sinkSends.push(undefined, frame);
        return;
      case "stop":
        this.onStop(msg);
        return;
      default:
        this.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent by a dispatcher`);
    }
  }

  private onTask(task: Task): void {
    this.counters.tasksReceived++;
    const key = keyOf(task.job, task.seq);
    if (this.held.has(key)) {
      // Requeued to us while we still run it: keep the running one, give the credit back.
      this.grant(1);
      return;
    }
    if (this.held.size >= this.window) {
      this.rejects.add("OVER_CREDIT", `task beyond the credit window of ${this.window}`);
      return;
    }
    this.held.set(key, task);
    this.queue.push(task);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private onStop(msg: Extract<Message, { t: "stop" }>): void {
    if (msg.job !== undefined) {
      let dropped = 0;
      for (let i = this.queueHead; i < this.queue.length; i++) {
        const t = this.queue[i]!;
        if (t.job === msg.job && this.held.delete(keyOf(t.job, t.seq))) dropped++;
      }
      if (dropped > 0) this.grant(dropped);
      this.emit("stop", { job: msg.job, reason: msg.reason });
    } else {
      this.emit("stop", { reason: msg.reason });
    }
  }

  private async receiveSink(): Promise<void> {
    try {
      let handled = 0;
      for await (const frames of this.sink) {
        if (++handled % RECEIVE_BATCH === 0) await yieldToLoop();
        this.sinkUp = true; // it answers, whatever the event monitor saw
        if (!this.checkBatch(frames, "sink")) continue;
        for (const frame of frames) {
          const msg = this.decodeFrame(frame, "sink");
          if (!msg) continue;
          if (msg.t !== "receipt") {
            this.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent by a sink`);
            continue;
          }
          this.unreceipted.receipt(msg.job, msg.seqs);
          this.counters.receiptsRelayed++;
          this.dealerSends.push(undefined, frame);
        }
        // Freed credit rides along with the relayed receipts.
        if (this.pendingGrant > 0) this.flushGrant();
        if (this.unreceipted.size === 0) this.drained?.();
      }
    } catch (error) {
      if (!this.sink.closed) this.logger.error?.("sink receive loop stopped", { error: String(error) });
    }
  }

  private async observe(socket: zmq.Dealer, link: "dispatcher" | "sink"): Promise<void> {
    try {
      for await (const event of socket.events) {
        if (event.type === "handshake:error:auth") {
          const error = Object.assign(
            new Error(`${link} refused our CURVE key (${event.error.message}); is it on the allow-list?`),
            { code: "AUTH" },
          );
          this.warn.warn(error.message, { link, address: event.address });
          this.emit("auth-error", { link, error });
        } else if (event.type === "disconnect") {
          if (link === "sink") {
            this.sinkDropped = true;
            this.sinkUp = false;
          } else if (
            socket === this.dealer &&
            performance.now() - this.openedAt > this.o.heartbeatIntervalMs
          ) {
            // Not more often than once per heartbeat period (a refused handshake also disconnects).
            this.resetDispatcher("connection to dispatcher lost");
          }
        } else if (event.type === "connect" && link === "sink") {
          this.sinkUp = true;
          if (this.sinkDropped) {
            this.sinkDropped = false;
            this.resendUnreceipted(0);
          }
          this.flushGrant();
        }
      }
    } catch (error) {
      if (!socket.closed) this.logger.warn("event observer stopped", { link, error: String(error) });
    }
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.lastHeard > this.o.heartbeatTimeoutMs) {
      this.resetDispatcher("dispatcher silent");
      return;
    }
    this.dealerSends.push(undefined, encode({ t: "heartbeat", from: this.o.id, inFlight: this.held.size }));
    this.resendUnreceipted(this.o.resendAfterMs);
  }

  /** Sends results again whose receipt is older than `ageMs` (all when 0): the sink de-duplicates. */
  private resendUnreceipted(ageMs: number): void {
    const frames = this.unreceipted.takeStale(ageMs);
    for (const frame of frames) this.sinkSends.push(undefined, frame);
    this.counters.resultsResent += frames.length;
    if (frames.length > 0) this.logger.info?.("results sent to the sink again", { count: frames.length });
  }

  private grant(n: number): void {
    this.pendingGrant += n;
    if (this.pendingGrant >= this.grantBatch) this.flushGrant();
    else this.scheduleGrant();
  }

  private scheduleGrant(): void {
    if (this.grantTimer || this.closed) return;
    this.grantTimer = setTimeout(() => {
      this.grantTimer = undefined;
      this.flushGrant();
    }, GRANT_MS);
  }

  private flushGrant(): void {
    if (this.grantTimer) {
      clearTimeout(this.grantTimer);
      this.grantTimer = undefined;
    }
    // Closing: no new tasks; what we still hold goes back to the queue with our bye.
    if (this.pendingGrant <= 0 || this.closing) return;
    // The sink is not keeping up with receipts: hold credit back until it does.
    if (this.unreceipted.size >= this.o.maxUnreceipted) return;
    // The sink is away: results queue in its socket (several to a message, so its high-water
    // mark alone would let many through); no credit until it is back.
    if (!this.sinkUp) return;
    const credit = this.pendingGrant;
    this.pendingGrant = 0;
    this.counters.creditGranted += credit;
    this.counters.creditMessages++;
    this.dealerSends.push(undefined, encode({ t: "credit", worker: this.o.id, credit }));
  }

  private checkBatch(frames: Buffer[], link: string): boolean {
    if (frames.length > MAX_BATCH) {
      this.rejects.add(
        "BAD_FRAMES",
        `${frames.length} frames in one message from the ${link}, over ${MAX_BATCH}`,
      );
      return false;
    }
    return true;
  }

  private decodeFrame(frame: Buffer, link: string): Message | undefined {
    const r = decode(frame);
    if (!r.ok) {
      this.rejects.add(r.error.code, `from the ${link}: ${r.error.message}`);
      return undefined;
    }
    return r.message;
  }
}
