import { encode, LIMITS, type Message, type Result } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import type * as zmq from "zeromq";
import { resolveCollectorOptions } from "./collector-options.js";
import type { CollectorEvents, CollectorMetrics, CollectorOptions, ResultStore } from "./collector-types.js";
import type { ZapHandler } from "./curve.js";
import { TypedEmitter } from "./emitter.js";
import { RateLimitedWarn } from "./rate-limited-warn.js";
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

interface Entry {
  result: Result;
  identity: Buffer;
}

const keyOf = (job: string, seq: number) => `${seq}\u0000${job}`;

/**
 * The sink's side: binds a ROUTER, takes results, de-duplicates them by (job, seq)
 * against the store and what is being written, writes them in batches, and only then
 * sends `receipt`s back to the worker that delivered them (duplicates are receipted
 * again, never written again).
 *
 * @example
 * const collector = new Collector({ endpoint: "tcp://*:5558", store });
 * collector.on("stored", (results) => results.forEach(print));
 * await collector.bind();
 */
export class Collector extends TypedEmitter<CollectorEvents> {
  private readonly router: zmq.Router;
  private readonly sends: SendQueue;
  private readonly zap: ZapHandler | undefined;
  private readonly store: ResultStore;
  private readonly endpointOption: string;
  private readonly trust: TrustList | undefined;
  private readonly curveOn: boolean;
  private readonly batchMaxMs: number;
  private readonly batchMax: number;
  private readonly lingerMs: number;
  private readonly logger: Logger;
  private readonly warn: RateLimitedWarn;
  private batch: Entry[] = [];
  private readonly pendingKeys = new Set<string>();
  /** Other senders of a result being written, receipted with it. */
  private readonly waiting = new Map<string, Buffer[]>();
  private duplicates = new Map<string, { identity: Buffer; job: string; seqs: number[] }>();
  private batchTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private observer: Promise<void> | undefined;
  private boundEndpoint: string | undefined;
  private closed = false;
  private readonly seenJobs = new Map<string, { start: boolean; end: boolean }>();
  private readonly rejects: RejectCounter;
  private readonly counters = {
    received: 0,
    stored: 0,
    duplicates: 0,
    receiptsSent: 0,
    receiptsUndeliverable: 0,
    writeErrors: 0,
  };

  constructor(options: CollectorOptions) {
    super();
    const o = resolveCollectorOptions(options);
    this.store = o.store;
    this.endpointOption = o.endpoint;
    this.batchMaxMs = o.batchMaxMs;
    this.batchMax = o.batchMax;
    const lingerMs = o.lingerMs;
    this.lingerMs = lingerMs;
    this.logger = o.logger;
    this.warn = new RateLimitedWarn(this.logger);
    this.rejects = new RejectCounter("collector", this.warn, (info) => this.emit("reject", info));
    // A receipt that cannot be queued at once is dropped, not waited for: the worker sends the
    // result again later and gets a new receipt.
    this.curveOn = o.curve !== undefined;
    this.trust = serverTrust(o.trust, this.curveOn, this.endpointOption, "trust");
    ({ router: this.router, zap: this.zap } = createServerRouter({
      owner: "Collector",
      curve: o.curve,
      trust: this.trust,
      lingerMs,
      sendHighWaterMark: 10_000,
      // Bounded, per peer: when writes fall behind we stop reading, and workers block at their HWM;
      // a flooding peer's backlog stays this small.
      receiveHighWaterMark: 1000,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 5000,
      logger: this.logger,
      onAuthRefused: (address, reason) => this.rejects.add("AUTH", `handshake refused: ${reason}`, address),
    }));
    this.sends = new SendQueue(this.router, (e) =>
      this.warn.warn("receipt send failed", { error: String(e) }),
    );
  }

  /** What this server exposes: endpoint, CURVE on or off, the networks it admits. */
  get exposure(): Exposure {
    return exposureOf(this.endpoint, this.curveOn, this.trust);
  }

  /** The bound endpoint (with the real port when bound to port 0 or `*`). */
  get endpoint(): string {
    return this.boundEndpoint ?? this.endpointOption;
  }

  async bind(): Promise<void> {
    this.boundEndpoint = await bindServerRouter(this.router, this.zap, this.endpointOption);
    this.loop = serveRouter(this.router, {
      owner: "collector",
      logger: this.logger,
      closed: () => this.closed,
      onMessage: (message, identity) => this.onMessage(message, identity),
      onReject: (code, message, peer) => this.rejects.add(code, message, peer),
      // Backpressure: with a full batch and a write in progress, stop reading until it is done.
      afterEach: () => (this.batch.length >= this.batchMax ? this.writing : undefined),
    });
    this.observer = observeHandshakes(this.router, (message, address) =>
      this.rejects.add("HANDSHAKE", message, address),
    );
    this.logger.info?.("collector bound", { endpoint: this.endpoint });
  }

  metrics(): CollectorMetrics {
    return {
      ...this.counters,
      pending: this.pendingKeys.size,
      rejects: this.rejects.snapshot(),
    };
  }

  /** Writes what is pending, sends its receipts, and closes the socket (bounded by linger). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.batchTimer);
    await this.writing;
    await this.flush();
    await this.sends.drain(this.lingerMs);
    this.router.close();
    await this.loop;
    await this.observer;
    this.sends.close();
    await this.zap?.close();
  }

  private onMessage(msg: Message, identity: Buffer): void {
    switch (msg.t) {
      case "result":
        this.onResult(msg, identity);
        return;
      case "job-start":
      case "job-end": {
        // Every worker relays these: report each once per job.
        let seen = this.seenJobs.get(msg.job);
        if (!seen) {
          seen = { start: false, end: false };
          this.seenJobs.set(msg.job, seen);
          if (this.seenJobs.size > 4096) this.seenJobs.delete(this.seenJobs.keys().next().value!);
        }
        if (msg.t === "job-start" && !seen.start) {
          seen.start = true;
          this.emit("job-start", msg);
        } else if (msg.t === "job-end" && !seen.end) {
          seen.end = true;
          this.emit("job-end", msg);
        }
        return;
      }
      default:
        this.rejects.add("UNEXPECTED_KIND", `${msg.t} is not sent to a sink`, identity.toString("hex"));
    }
  }

  private onResult(result: Result, identity: Buffer): void {
    this.counters.received++;
    const key = keyOf(result.job, result.seq);
    if (this.pendingKeys.has(key)) {
      // Being written now: this copy's sender gets its receipt too once the write is durable
      // (else it would wait for its resend timer).
      this.noteDuplicate(result, identity, false);
      let w = this.waiting.get(key);
      if (!w) {
        w = [];
        this.waiting.set(key, w);
      }
      if (w.length < 8) w.push(identity);
      return;
    }
    if (this.store.has(result.job, result.seq)) {
      this.noteDuplicate(result, identity, true);
      return;
    }
    this.pendingKeys.add(key);
    this.batch.push({ result, identity });
    if (this.batch.length >= this.batchMax) this.startWrite();
    else if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.startWrite();
      }, this.batchMaxMs);
    }
  }

  private noteDuplicate(result: Result, identity: Buffer, receipt: boolean): void {
    this.counters.duplicates++;
    this.emit("duplicate", { job: result.job, seq: result.seq, worker: result.worker });
    if (!receipt) return;
    const k = `${identity.toString("latin1")}\u0000${result.job}`;
    let d = this.duplicates.get(k);
    if (!d) {
      d = { identity, job: result.job, seqs: [] };
      this.duplicates.set(k, d);
    }
    d.seqs.push(result.seq);
    if (!this.batchTimer && !this.writing) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.startWrite();
      }, this.batchMaxMs);
    }
  }

  private startWrite(): void {
    if (this.writing) return; // the running write picks the batch up when it ends
    this.writing = this.flush().finally(() => {
      this.writing = undefined;
      if ((this.batch.length > 0 || this.duplicates.size > 0) && !this.closed) this.startWrite();
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const batch = this.batch;
    this.batch = [];
    const dups = this.duplicates;
    this.duplicates = new Map();
    for (const d of dups.values()) this.sendReceipts(d.identity, d.job, d.seqs);
    if (batch.length === 0) return;
    const results = batch.map((e) => e.result);
    try {
      await this.store.write(results);
    } catch (error) {
      // Not durable: no receipt. The workers send these again and the dispatcher keeps them.
      this.counters.writeErrors++;
      for (const e of batch) {
        const key = keyOf(e.result.job, e.result.seq);
        this.pendingKeys.delete(key);
        this.waiting.delete(key);
      }
      this.logger.error?.("result store write failed", { error: String(error), results: batch.length });
      return;
    }
    for (const e of batch) this.pendingKeys.delete(keyOf(e.result.job, e.result.seq));
    this.counters.stored += batch.length;
    this.emit("stored", results);
    const groups = new Map<string, { identity: Buffer; job: string; seqs: number[]; failed: boolean[] }>();
    const add = (identity: Buffer, result: Result, failed: boolean) => {
      const k = `${identity.toString("latin1")}\u0000${result.job}`;
      let g = groups.get(k);
      if (!g) {
        g = { identity, job: result.job, seqs: [], failed: [] };
        groups.set(k, g);
      }
      g.seqs.push(result.seq);
      g.failed.push(failed);
    };
    for (const { result, identity } of batch) {
      add(identity, result, !result.ok);
      const key = keyOf(result.job, result.seq);
      const others = this.waiting.get(key);
      if (!others) continue;
      this.waiting.delete(key);
      // Counted as failed once, by the first sender's receipt.
      for (const other of others) add(other, result, false);
    }
    for (const g of groups.values()) this.sendReceipts(g.identity, g.job, g.seqs, g.failed);
  }

  /** Receipts for `seqs`; `failed[i]` says whether seqs[i] was an error (unknown for duplicates). */
  private sendReceipts(identity: Buffer, job: string, seqs: number[], failed?: boolean[]): void {
    for (let i = 0; i < seqs.length; i += LIMITS.receiptSeqs) {
      const part = seqs.slice(i, i + LIMITS.receiptSeqs);
      let nFailed = 0;
      if (failed) for (let j = i; j < i + part.length; j++) if (failed[j]) nFailed++;
      const body = failed
        ? { t: "receipt" as const, job, seqs: part, failed: nFailed }
        : { t: "receipt" as const, job, seqs: part };
      this.counters.receiptsSent++;
      this.sends.push(identity, encode(body), (error) => {
        this.counters.receiptsUndeliverable++;
        if (!hasCode(error, "EHOSTUNREACH") && !hasCode(error, "EAGAIN") && !this.closed) {
          this.warn.warn("receipt send failed", { error: String(error) });
        }
      });
    }
  }
}
