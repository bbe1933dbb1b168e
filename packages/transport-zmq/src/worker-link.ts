import { encode, type Message, type Task } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import { CreditWindow } from "./credit-window.js";
import { DispatcherLink } from "./dispatcher-link.js";
import { TypedEmitter } from "./emitter.js";
import { RateLimitedWarn } from "./rate-limited-warn.js";
import { SinkLink } from "./sink-link.js";
import { RejectCounter } from "./socket-util.js";
import { TaskInbox } from "./task-inbox.js";
import { resolveWorkerCurve, resolveWorkerLinkOptions } from "./worker-link-options.js";
import type {
  ResultBody,
  WorkerLinkEvents,
  WorkerLinkMetrics,
  WorkerLinkOptions,
} from "./worker-link-types.js";
import type { WorkerLinkContext } from "./worker-socket.js";

/**
 * Where a worker link stands. Transitions:
 * - `new` -> `running`: {@link WorkerLink.start}.
 * - `new` | `running` -> `draining`: {@link WorkerLink.close}; no credit is granted any more,
 *   outstanding receipts are awaited (up to `drainMs`).
 * - `draining` -> `closed`: `bye` said, sockets closed.
 * - any -> `closed` (final): {@link WorkerLink.destroy}, at once.
 */
export type WorkerLinkState = "new" | "running" | "draining" | "closed";

/**
 * The worker's side: connects to the dispatcher and the sink, advertises credit from
 * its free capacity, yields tasks, forwards results to the sink and relays the sink's
 * receipts to the dispatcher. Recreates its dispatcher socket after silence
 * (Paranoid Pirate) and resends results that lost their receipt.
 *
 * Composed of a {@link CreditWindow} (tasks held, credit owed), a {@link TaskInbox} (tasks not
 * yet taken), a {@link DispatcherLink} (tasks in, credit, heartbeats, reconnects) and a
 * {@link SinkLink} (results out, receipts in, resends), each with one explicit state.
 *
 * @example
 * const link = new WorkerLink({ dispatcher: "tcp://127.0.0.1:5557", sink: "tcp://127.0.0.1:5558", id: "w1", capacity: 100 });
 * await link.start();
 * for await (const task of link.tasks()) {
 *   void probe(task.target).then((r) => link.sendResult({ t: "result", job: task.job, seq: task.seq, ...r }));
 * }
 */
export class WorkerLink extends TypedEmitter<WorkerLinkEvents> {
  private state: WorkerLinkState = "new";
  private readonly ctx: WorkerLinkContext;
  private readonly logger: Logger;
  private readonly rejects: RejectCounter;
  private readonly credit: CreditWindow;
  private readonly inbox = new TaskInbox();
  private readonly dispatcher: DispatcherLink;
  private readonly sink: SinkLink;
  private tickTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerLinkOptions) {
    super();
    const o = resolveWorkerLinkOptions(options);
    const curve = resolveWorkerCurve(options.curve);
    this.logger = o.logger;
    const warn = new RateLimitedWarn(this.logger);
    this.rejects = new RejectCounter("worker", warn, (info) => this.emit("reject", info));
    this.ctx = { o, curve, logger: this.logger, warn, rejects: this.rejects };
    this.credit = new CreditWindow(
      o.window,
      // No credit while closing (what we hold goes back with our bye), while the sink is not
      // keeping up with receipts, or while it is away (results would queue in its socket,
      // several to a message, so its high-water mark alone would let many through).
      () => this.state === "running" && this.sink.unreceipted < o.maxUnreceipted && this.sink.reachable,
      (credit) => this.dispatcher.send(encodeCredit(o.id, credit)),
    );
    const onAuthError = (link: "dispatcher" | "sink") => (error: Error) =>
      this.emit("auth-error", { link, error });
    this.sink = new SinkLink(this.ctx, {
      onReceipt: (frame) => this.dispatcher.send(frame),
      onSinkReady: () => {
        if (this.credit.owing) this.credit.flush();
      },
      onAuthError: onAuthError("sink"),
    });
    this.dispatcher = new DispatcherLink(this.ctx, {
      held: () => this.credit.heldCount,
      onOpen: () => this.credit.restart(),
      onTask: (task) => this.onTask(task),
      onStop: (msg) => this.onStop(msg),
      onRelay: (frame) => this.sink.relay(frame),
      onConnected: () => this.emit("connected"),
      onDisconnected: (info) => this.emit("disconnected", info),
      onAuthError: onAuthError("dispatcher"),
    });
  }

  /** Connects both links and sends `ready`. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new TypeError("WorkerLink.start: already started");
    this.state = "running";
    this.sink.open();
    this.dispatcher.open();
    this.tickTimer = setInterval(() => this.tick(), this.ctx.o.heartbeatIntervalMs);
  }

  /** Tasks as they arrive. One consumer; ends when the link closes. */
  tasks(): AsyncIterableIterator<Task> {
    // A task whose credit was given back meanwhile (its job stopped) is skipped.
    return this.inbox.tasks((task) => this.credit.holds(task.job, task.seq));
  }

  /**
   * Hands a result to the sink socket; resolves once the socket took it (waits while the
   * sink is slow or away) and frees one credit. The sink's receipt is relayed later.
   */
  async sendResult(result: ResultBody): Promise<void> {
    if (this.state === "closed") throw new Error("WorkerLink.sendResult: link is closed");
    await this.sink.send(result);
    this.credit.giveBack(result.job, result.seq);
  }

  /**
   * Gives back the slot of a task that will get no result, e.g. one of a job the
   * dispatcher stopped (its `stop` event). Without a result or a release the slot stays taken.
   */
  release(task: { job: string; seq: number }): void {
    this.credit.giveBack(task.job, task.seq);
  }

  metrics(): WorkerLinkMetrics {
    return {
      connected: this.dispatcher.state === "ready",
      capacity: this.ctx.o.capacity,
      window: this.ctx.o.window,
      held: this.credit.heldCount,
      queued: this.inbox.size,
      unreceipted: this.sink.unreceipted,
      tasksReceived: this.dispatcher.tasksReceived,
      resultsSent: this.sink.resultsSent,
      resultsResent: this.sink.resultsResent,
      creditGranted: this.credit.granted,
      creditMessages: this.credit.messages,
      receiptsRelayed: this.sink.receiptsRelayed,
      reconnects: this.dispatcher.reconnects,
      rejects: this.rejects.snapshot(),
    };
  }

  /**
   * Stops granting credit, waits (up to `drainMs`) for outstanding receipts, says `bye` so
   * the dispatcher requeues what is left at once, and closes both sockets (bounded by linger).
   * Finish or release running tasks first to have their results count.
   */
  async close(): Promise<void> {
    if (this.state === "draining" || this.state === "closed") return;
    const started = this.state === "running";
    this.state = "draining";
    if (started && this.ctx.o.drainMs > 0) await this.sink.whenReceipted(this.ctx.o.drainMs);
    if (this.state !== "draining") return; // destroyed while draining
    this.state = "closed";
    this.stopTimers();
    const lingerMs = Math.min(500, this.ctx.o.lingerMs);
    await this.dispatcher.close(lingerMs);
    // Relayed job-start/job-end and resent results still queued for the sink: give them a moment.
    await this.sink.close(lingerMs);
    await this.settled();
  }

  /**
   * Closes both sockets at once, without `bye`, drain or linger (a second SIGINT). The
   * dispatcher requeues this worker's unreceipted tasks when its heartbeats stop.
   */
  async destroy(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.stopTimers();
    this.sink.destroy();
    this.dispatcher.destroy();
    await this.settled();
  }

  private stopTimers(): void {
    clearInterval(this.tickTimer);
    this.credit.stop();
    this.inbox.close();
  }

  private async settled(): Promise<void> {
    await Promise.all([this.sink.settled(), this.dispatcher.settled()]);
  }

  private tick(): void {
    if (!this.dispatcher.tick()) return;
    this.sink.resendStale(this.ctx.o.resendAfterMs);
  }

  private onTask(task: Task): void {
    const verdict = this.credit.take(task);
    if (verdict === "taken") this.inbox.push(task);
    else if (verdict === "over-credit") {
      this.rejects.add("OVER_CREDIT", `task beyond the credit window of ${this.ctx.o.window}`);
    }
    // "duplicate": requeued to us while we still run it; the running one stays, its credit went back.
  }

  private onStop(msg: Extract<Message, { t: "stop" }>): void {
    let dropped = 0;
    for (const t of this.inbox.queuedOf(msg.job)) if (this.credit.forget(t.job, t.seq)) dropped++;
    if (dropped > 0) this.credit.grant(dropped);
    this.emit("stop", { job: msg.job, reason: msg.reason });
  }
}

function encodeCredit(worker: string, credit: number): Buffer {
  return encode({ t: "credit", worker, credit });
}
