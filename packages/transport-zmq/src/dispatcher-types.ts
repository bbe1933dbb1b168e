import type { CurveServerOptions } from "./curve.js";
import type { JobProgress, JobReport } from "./job-state.js";
import type { Logger } from "./logger.js";
import type { RejectInfo } from "./socket-util.js";

/** Options of a {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Where to bind the ROUTER. @default "tcp://*:5557" */
  endpoint?: string;
  /** CURVE with a ZAP allow-list of worker keys. @default undefined (plain tcp) */
  curve?: CurveServerOptions;
  /** Heartbeat period, both ways. @default 1000 */
  heartbeatIntervalMs?: number;
  /** A worker silent this long is lost and its unreceipted tasks requeued. @default 5000 */
  heartbeatTimeoutMs?: number;
  /** Attempts per task before it is abandoned (reported, not retried). @default 3 */
  maxAttempts?: number;
  /**
   * Most tasks out at once over all workers (sent and not yet receipted): the original's
   * `watermark`. The dispatcher sends only while below it, and within each worker's credit.
   * Tasks of a lost worker that are requeued leave the count at once.
   * @default unlimited (only the workers' credit bounds what is out)
   * @example
   * new Dispatcher({ maxInFlight: 500 }); // at most 500 hosts being probed fleet-wide
   */
  maxInFlight?: number;
  /** Socket linger on close. @default 1000 */
  lingerMs?: number;
  /** Where to log. @default silent */
  logger?: Logger;
}

/** A job to dispatch: one task per target, numbered 0..targets.length-1. */
export interface JobSpec {
  id: string;
  targets: string[];
  /** A command instead of `uptime`. */
  command?: string;
  /**
   * Tasks the sink already stored in an earlier run of this same job (same id, same targets in
   * the same order): counted as receipted from the start and never sent. `failed` of them
   * were errors. This is how a sender resumes a job after a crash.
   * @default nothing stored
   */
  stored?: { seqs: Iterable<number>; failed?: number };
}

/** Counters the apps can show. */
export interface DispatcherMetrics {
  workers: number;
  /** Credit outstanding over all workers (tasks they can take now). */
  credit: number;
  inFlight: number;
  queued: number;
  requeued: number;
  abandoned: number;
  tasksSent: number;
  /** Receipt messages received. */
  receipts: number;
  /** Tasks receipted. */
  receipted: number;
  rejects: { total: number; byCode: Record<string, number> };
  activeJobs: number;
}

/** A worker as the dispatcher sees it. */
export interface WorkerInfo {
  worker: string;
  capacity: number;
  /** Routing id (hex) of its current connection. */
  peer: string;
}

/** Events of a {@link Dispatcher}. */
export type DispatcherEvents = {
  "worker-joined": [WorkerInfo];
  "worker-lost": [WorkerInfo & { reason: "timeout" | "bye" | "unreachable" | "replaced"; requeued: number }];
  progress: [{ job: string } & JobProgress];
  /** Tasks newly receipted by one receipt message (`failed` of them errors): what a sender journals to resume. */
  receipted: [{ job: string; seqs: number[]; failed: number }];
  "job-done": [JobReport];
  reject: [RejectInfo];
};
