import type { Logger } from "@uptime/protocol/check";
import type { CurveServerOptions } from "./curve.js";
import type { JobProgress, JobReport } from "./job-state.js";
import type { RejectInfo } from "./socket-util.js";

/** Options of a {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Where to bind the ROUTER. @default "tcp://*:5557" */
  endpoint?: string;
  /** CURVE with a ZAP allow-list of worker keys. @default undefined (plain tcp) */
  curve?: CurveServerOptions;
  /**
   * Networks (CIDR, IPv4 or IPv6) workers may connect from, checked by ZAP on every handshake.
   * Without CURVE anyone who can reach the port takes tasks and sends receipts, so by default only
   * loopback is admitted; with CURVE the allow-list authenticates and any address is admitted
   * unless this is set. Not checked for ipc:// endpoints (local by nature).
   * @default ["127.0.0.0/8", "::1/128"] without CURVE, any address with CURVE
   * @example
   * new Dispatcher({ endpoint: "tcp://*:5557", trust: ["10.0.0.0/8", "fd00::/8"] });
   */
  trust?: string[];
  /**
   * Most credit (tasks out at once) one worker can hold, whatever capacity it claims; a worker's
   * credit is also capped at 1.25 times its declared capacity plus 16.
   * @default 11000 (the worker app's largest concurrency, 10,000, plus its prefetch)
   */
  maxWorkerCredit?: number;
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

/** Why a worker left the registry: silent, said bye, unreachable, reconnected, or cut off for malformed frames. */
export type WorkerLostReason = "timeout" | "bye" | "unreachable" | "replaced" | "cut-off";

/** Events of a {@link Dispatcher}. */
export type DispatcherEvents = {
  "worker-joined": [WorkerInfo];
  "worker-lost": [WorkerInfo & { reason: WorkerLostReason; requeued: number }];
  progress: [{ job: string } & JobProgress];
  /** Tasks newly receipted by one receipt message (`failed` of them errors): what a sender journals to resume. */
  receipted: [{ job: string; seqs: number[]; failed: number }];
  "job-done": [JobReport];
  reject: [RejectInfo];
};
