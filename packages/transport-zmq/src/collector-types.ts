import type { Message, Result } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import type { CurveServerOptions } from "./curve.js";
import type { RejectInfo } from "./socket-util.js";

/**
 * Where the sink keeps results. `has` must answer from what is durably written (also
 * after a restart); `write` resolves only once the batch is durable.
 */
export interface ResultStore {
  has(job: string, seq: number): boolean;
  write(results: Result[]): Promise<void>;
}

/** Options of a {@link Collector}. */
export interface CollectorOptions {
  /** Where to bind the ROUTER. @default "tcp://*:5558" */
  endpoint?: string;
  store: ResultStore;
  /** CURVE with a ZAP allow-list of worker keys. @default undefined (plain tcp) */
  curve?: CurveServerOptions;
  /**
   * Networks (CIDR) workers may connect from, checked by ZAP; see `DispatcherOptions.trust`.
   * @default ["127.0.0.0/8", "::1/128"] without CURVE, any address with CURVE
   */
  trust?: string[];
  /** Longest a result waits before its batch is written. @default 20 */
  batchMaxMs?: number;
  /** Most results in one write. @default 1000 */
  batchMax?: number;
  /** @default 1000 */
  lingerMs?: number;
  logger?: Logger;
}

/** Counters the sink app can show. */
export interface CollectorMetrics {
  received: number;
  stored: number;
  duplicates: number;
  receiptsSent: number;
  receiptsUndeliverable: number;
  /** Results received and not yet durably written. */
  pending: number;
  writeErrors: number;
  rejects: { total: number; byCode: Record<string, number> };
}

/** Events of a {@link Collector}. */
export type CollectorEvents = {
  "job-start": [Extract<Message, { t: "job-start" }>];
  "job-end": [Extract<Message, { t: "job-end" }>];
  /** A batch durably written (in arrival order, no duplicates). */
  stored: [Result[]];
  duplicate: [{ job: string; seq: number; worker: string }];
  reject: [RejectInfo];
};
