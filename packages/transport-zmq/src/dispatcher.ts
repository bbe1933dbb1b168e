import { encode, LIMITS, type Message } from "@uptime/protocol";
import { type Logger, optionError } from "@uptime/protocol/check";
import type * as zmq from "zeromq";
import type { ZapHandler } from "./curve.js";
import {
  checkJobSpec,
  type ResolvedDispatcherOptions,
  resolveDispatcherOptions,
} from "./dispatcher-options.js";
import type {
  DispatcherEvents,
  DispatcherMetrics,
  DispatcherOptions,
  JobSpec,
  WorkerInfo,
  WorkerLostReason,
} from "./dispatcher-types.js";
import { TypedEmitter } from "./emitter.js";
import { type JobRun, JobState } from "./job-state.js";
import { RateLimitedWarn } from "./rate-limited-warn.js";
import { scheduleTasks } from "./scheduler.js";
import {
  bindServerRouter,
  createServerRouter,
  type Exposure,
  exposureOf,
  serveRouter,
  serverTrust,
} from "./server-router.js";
import { hasCode, observeHandshakes, RejectCounter, SendQueue } from "./socket-util.js";
import type { TrustList } from "./trust.js";
import { WorkerEntry, WorkerRegistry } from "./worker-registry.js";

/**
 * The sender's side: binds a ROUTER, tracks workers, sends tasks only against the
 * credit each worker advertised, keeps every task until the sink's receipt comes
 * back, requeues the tasks of a lost worker (heartbeat timeout or `bye`) with the
 * attempt raised, abandons a task after `maxAttempts`, and knows when a job is done.
 *
 * @example
 * const dispatcher = new Dispatcher({ endpoint: "tcp://*:5557" });
 * await dispatcher.bind();
 * const run = dispatcher.runJob({ id: "j1", targets: ["web1", "web2"] });
 * const report = await run.done;
 * await dispatcher.close();
 */
export class Dispatcher extends TypedEmitter<DispatcherEvents> {
  private readonly router: zmq.Router;
  private readonly sends: SendQueue;
  private readonly zap: ZapHandler | undefined;
  private readonly o: ResolvedDispatcherOptions;
  private readonly trust: TrustList | undefined;
  private readonly curveOn: boolean;
  private readonly logger: Logger;
  private readonly warn: RateLimitedWarn;
  private readonly workers = new WorkerRegistry();
  private readonly jobs = new Map<string, JobState<WorkerEntry>>();
  private readonly rejects: RejectCounter;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private loop: Promise<void> | undefined;
  private observer: Promise<void> | undefined;
  private boundEndpoint: string | undefined;
  private closed = false;
  private counters = { tasksSent: 0, receipts: 0, receipted: 0, requeued: 0, abandoned: 0 };

  constructor(options: DispatcherOptions = {}) {
    super();
    this.o = resolveDispatcherOptions(options);
    this.logger = this.o.logger;
    this.warn = new RateLimitedWarn(this.logger);
    this.rejects = new RejectCounter("dispatcher", this.warn, (info) => this.emit("reject", info));
    this.curveOn = this.o.curve !== undefined;
    this.trust = serverTrust(this.o.trust, this.curveOn, this.o.endpoint, "trust");
    ({ router: this.router, zap: this.zap } = createServerRouter({
      owner: "Dispatcher",
      curve: this.o.curve,
      trust: this.trust,
      lingerMs: this.o.lingerMs,
      // Tasks are sent only against credit, so the queue per worker is bounded by its window.
      sendHighWaterMark: 100_000,
      // Per peer: a flooding peer's backlog stays in its own pipe, bounded, not in our memory.
      receiveHighWaterMark: 1000,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.o.heartbeatTimeoutMs,
      logger: this.logger,
      onAuthRefused: (address, reason) => this.rejects.add("AUTH", `handshake refused: ${reason}`, address),
    }));
    this.sends = new SendQueue(this.router, (error) =>
      this.logger.warn?.("dispatcher send failed", { error: String(error) }),
    );
  }

  /** What this server exposes: endpoint, CURVE on or off, the networks it admits. */
  get exposure(): Exposure {
    return exposureOf(this.endpoint, this.curveOn, this.trust);
  }

  /** The bound endpoint (with the real port when bound to port 0 or `*`). */
  get endpoint(): string {
    return this.boundEndpoint ?? this.o.endpoint;
  }

  /** Binds the ROUTER (and the ZAP handler first, when CURVE is on) and starts heartbeats. */
  async bind(): Promise<void> {
    this.boundEndpoint = await bindServerRouter(this.router, this.zap, this.o.endpoint);
    this.loop = serveRouter(this.router, {
      owner: "dispatcher",
      logger: this.logger,
      closed: () => this.closed,
      onMessage: (message, identity) => this.onMessage(message, identity),
      onReject: (code, message, peer) => this.rejects.add(code, message, peer),
      onCutOff: (identity) => {
        const w = this.workers.get(identity.toString("latin1"));
        if (w) this.lose(w, "cut-off");
      },
    });
    this.observer = observeHandshakes(this.router, (message, address) =>
      this.rejects.add("HANDSHAKE", message, address),
    );
    this.timer = setInterval(() => this.tick(), this.o.heartbeatIntervalMs);
    this.timer.unref?.();
    this.logger.info?.("dispatcher bound", { endpoint: this.endpoint });
  }

  /**
   * Starts dispatching a job. Throws a TypeError when a job with the same id is running
   * or the spec is malformed.
   */
  runJob(spec: JobSpec): JobRun {
    const { id, targets, command } = checkJobSpec(spec);
    if (this.jobs.has(id)) throw optionError("job.id", "an id no running job has", id);
    const job = new JobState<WorkerEntry>(id, targets, command);
    if (spec.stored) job.markStored(spec.stored.seqs, spec.stored.failed);
    this.jobs.set(id, job);
    const start = encode(job.startMessage());
    for (const w of this.workers.values()) this.sendTo(w, start);
    if (job.complete) this.finish(job, false);
    else this.dispatch();
    return { id, total: job.total, done: job.done, progress: () => job.progress() };
  }

  /** Stops dispatching `jobId`, tells workers to stop it, and resolves the job as cancelled. */
  cancel(jobId: string, reason = "cancelled"): void {
    const job = this.jobs.get(jobId);
    if (!job || job.finished) return;
    for (const w of this.workers.values()) {
      w.dropJob(job);
      this.sendTo(w, encode({ t: "stop", job: jobId, reason: reason.slice(0, LIMITS.text) }));
    }
    this.finish(job, true, reason);
  }

  /** The workers connected now. */
  workerList(): WorkerInfo[] {
    return [...this.workers.values()].map((w) => w.info());
  }

  /** Counters for a status line: workers, credit, in flight, queued, requeued, receipts, rejects. */
  metrics(): DispatcherMetrics {
    let inFlight = 0;
    let queued = 0;
    for (const j of this.jobs.values()) {
      inFlight += j.inFlight;
      queued += j.queued;
    }
    return {
      workers: this.workers.size,
      credit: this.workers.totalCredit(),
      inFlight,
      queued,
      ...this.counters,
      rejects: this.rejects.snapshot(),
      activeJobs: this.jobs.size,
    };
  }

  /** Cancels running jobs, stops heartbeats and closes the sockets (bounded by linger). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const job of [...this.jobs.values()]) this.finish(job, true, "dispatcher closed");
    // job-end and stop messages queued just now must reach the workers (who relay job-end
    // to the sink) before the socket goes; bounded by the linger time.
    await this.sends.drain(this.o.lingerMs);
    this.sends.close();
    this.router.close();
    await this.loop;
    await this.observer;
    await this.zap?.close();
  }

  private onMessage(msg: Message, identity: Buffer): void {
    const key = identity.toString("latin1");
    if (msg.t === "ready") {
      this.onReady(key, identity, msg);
      this.dispatch();
      return;
    }
    const w = this.workers.get(key);
    if (!w) {
      this.rejects.add(
        "UNKNOWN_PEER",
        `${msg.t} from a peer that never sent ready`,
        identity.toString("hex"),
      );
      return;
    }
    w.lastSeen = performance.now();
    switch (msg.t) {
      case "credit":
        w.addCredit(msg.credit);
        this.dispatch();
        return;
      case "heartbeat":
        return;
      case "receipt":
        this.onReceipt(msg, w);
        this.dispatch();
        return;
      case "bye":
        this.lose(w, "bye");
        return;
      default:
        this.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent to a dispatcher`, w.peer);
    }
  }

  private onReady(key: string, identity: Buffer, msg: Extract<Message, { t: "ready" }>): void {
    const now = performance.now();
    const existing = this.workers.get(key);
    // A worker's window is its capacity plus a 10% prefetch: more is a confused or hostile peer
    // (a harvester claiming a huge capacity to take most of the job). Cap it.
    const maxCredit = Math.min(Math.ceil(msg.capacity * 1.25) + 16, this.o.maxWorkerCredit);
    if (existing) {
      existing.refresh(msg.capacity, maxCredit, msg.credit, now);
      return;
    }
    // Same worker on a new connection (it recreated its socket): what was sent to the
    // old one may never have arrived, so its unreceipted tasks go back to the queue.
    for (const other of this.workers.named(msg.worker)) this.lose(other, "replaced");
    const w = new WorkerEntry(key, identity, msg.worker, msg.capacity, maxCredit, msg.credit, now);
    this.workers.add(w);
    this.sendTo(w, encode({ t: "heartbeat", from: "dispatcher" }));
    for (const job of this.jobs.values()) this.sendTo(w, encode(job.startMessage()));
    this.logger.info?.("worker joined", { worker: w.name, capacity: w.capacity, credit: w.credit });
    this.emit("worker-joined", w.info());
  }

  private onReceipt(msg: Extract<Message, { t: "receipt" }>, from: WorkerEntry): void {
    this.counters.receipts++;
    const job = this.jobs.get(msg.job);
    if (!job) return; // a late receipt of a finished or cancelled job
    const { fresh, holders, failed, outOfRange, notHeld } = job.receiptAll(msg.seqs, from, msg.failed);
    for (let i = 0; i < fresh.length; i++) holders[i]!.settle(job, fresh[i]!);
    for (const seq of outOfRange) {
      this.rejects.add(
        "BAD_RECEIPT",
        `receipt for seq ${seq} of job ${job.id} with ${job.total} tasks`,
        from.peer,
      );
    }
    if (notHeld > 0) {
      this.rejects.add(
        "BAD_RECEIPT",
        `receipt for ${notHeld} tasks of job ${job.id} that ${from.name} does not hold`,
        from.peer,
      );
    }
    this.counters.receipted += fresh.length;
    if (fresh.length > 0) this.emit("receipted", { job: job.id, seqs: fresh, failed });
    this.emit("progress", { job: job.id, ...job.progress() });
    if (job.complete) this.finish(job, false);
  }

  private dispatch(): void {
    if (this.closed || this.jobs.size === 0) return;
    scheduleTasks(this.jobs.values(), this.workers.values(), this.o.maxInFlight, (w, job, seq) =>
      this.sendTask(w, job, seq),
    );
  }

  private sendTask(w: WorkerEntry, job: JobState<WorkerEntry>, seq: number): void {
    w.assign(job, seq);
    job.markInFlight(seq, w);
    this.counters.tasksSent++;
    this.sendTo(w, encode(job.task(seq)));
  }

  private sendTo(w: WorkerEntry, frame: Buffer): void {
    this.sends.push(w.identity, frame, (error) => {
      // A worker that is gone (EHOSTUNREACH) or whose pipe is full because it stopped reading
      // (EAGAIN) fails the send at once and is treated as lost, instead of stalling every other worker.
      if (hasCode(error, "EHOSTUNREACH") || hasCode(error, "EAGAIN")) {
        if (this.workers.isCurrent(w)) this.lose(w, "unreachable");
      } else if (!this.closed) {
        this.logger.warn?.("send to worker failed", { worker: w.name, error: String(error) });
      }
    });
  }

  private tick(): void {
    const now = performance.now();
    // Now and then announce running jobs again, through every worker: a sink that restarted
    // learns their totals (it reports each job once).
    const announce =
      this.ticks++ % 5 === 4 ? [...this.jobs.values()].map((j) => encode(j.startMessage())) : [];
    for (const w of [...this.workers.values()]) {
      if (now - w.lastSeen > this.o.heartbeatTimeoutMs) {
        this.lose(w, "timeout");
        continue;
      }
      this.sendTo(w, encode({ t: "heartbeat", from: "dispatcher", inFlight: w.inFlight }));
      for (const frame of announce) this.sendTo(w, frame);
    }
  }

  private lose(w: WorkerEntry, reason: WorkerLostReason): void {
    if (!this.workers.remove(w)) return;
    let requeued = 0;
    const touched: JobState<WorkerEntry>[] = [];
    for (const [job, seqs] of w.takeAll()) {
      // A replaced connection is the same worker, alive: what it held goes back without costing an attempt.
      const r = job.requeueAll(seqs, this.o.maxAttempts, reason !== "replaced");
      requeued += r.requeued;
      this.counters.requeued += r.requeued;
      this.counters.abandoned += r.abandoned;
      touched.push(job);
    }
    if (reason === "bye") this.logger.info?.("worker left", { worker: w.name, requeued });
    else this.logger.warn?.("worker lost", { worker: w.name, reason, requeued });
    this.emit("worker-lost", { ...w.info(), reason, requeued });
    for (const job of touched) if (!job.finished && job.complete) this.finish(job, false);
    this.dispatch();
  }

  private finish(job: JobState<WorkerEntry>, cancelled: boolean, reason?: string): void {
    const report = job.finish(cancelled, reason);
    if (!report) return;
    this.jobs.delete(job.id);
    if (!cancelled) {
      for (const w of this.workers.values()) w.dropJob(job);
    }
    if (!this.closed) {
      const end = encode(job.endMessage(cancelled));
      for (const w of this.workers.values()) this.sendTo(w, end);
    }
    this.logger.info?.("job finished", { job: job.id, receipted: job.receipted, cancelled });
    this.emit("job-done", report);
  }
}
