import type { MessageBody } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import type { RejectInfo } from "./socket-util.js";

/** CURVE keys of a worker: its own pair and the public keys of the servers it connects to. */
export interface WorkerCurveOptions {
  publicKey: string;
  secretKey: string;
  /** The dispatcher's public key: CURVE on the task link when set. */
  dispatcherKey?: string;
  /** The sink's public key: CURVE on the result link when set. */
  sinkKey?: string;
}

/** Options of a {@link WorkerLink}. */
export interface WorkerLinkOptions {
  /** The dispatcher (sender) endpoint. @example "tcp://127.0.0.1:5557" */
  dispatcher: string;
  /** The sink endpoint. @example "tcp://127.0.0.1:5558" */
  sink: string;
  /** Worker id, unique in the fleet. */
  id: string;
  /** Tasks the worker runs at once (its concurrency). */
  capacity: number;
  /** Tasks held ready beyond `capacity`. @default Math.ceil(capacity * 0.1) */
  prefetch?: number;
  curve?: WorkerCurveOptions;
  /** @default 1000 */
  heartbeatIntervalMs?: number;
  /** Silence from the dispatcher after which the link is recreated. @default 5000 */
  heartbeatTimeoutMs?: number;
  /** Results without a receipt for this long are sent to the sink again. @default 10000 */
  resendAfterMs?: number;
  /** Results awaiting a receipt beyond which no more credit is granted. @default max(4 * (capacity + prefetch), 1000) */
  maxUnreceipted?: number;
  /** How long {@link WorkerLink.close} waits for outstanding receipts. @default 2000 */
  drainMs?: number;
  /** @default 1000 */
  lingerMs?: number;
  logger?: Logger;
}

/** Counters the worker app can show. */
export interface WorkerLinkMetrics {
  connected: boolean;
  capacity: number;
  window: number;
  /** Tasks received and not yet handed to the sink (running or waiting in {@link WorkerLink.tasks}). */
  held: number;
  /** Tasks received, waiting to be taken from {@link WorkerLink.tasks}. */
  queued: number;
  /** Results sent to the sink without a receipt yet. */
  unreceipted: number;
  tasksReceived: number;
  resultsSent: number;
  resultsResent: number;
  creditGranted: number;
  /** Credit messages sent (grants are batched). */
  creditMessages: number;
  receiptsRelayed: number;
  reconnects: number;
  rejects: { total: number; byCode: Record<string, number> };
}

/** Events of a {@link WorkerLink}. */
export type WorkerLinkEvents = {
  connected: [];
  /** The dispatcher link was lost; `held` tasks were in hand (0: nothing at stake, e.g. the sender finished and left). */
  disconnected: [{ reason: string; held: number }];
  stop: [{ job: string; reason: string }];
  "auth-error": [{ link: "dispatcher" | "sink"; error: Error }];
  reject: [RejectInfo];
};

/** A result as the worker hands it over: a `result` message without its version field. */
export type ResultBody = Extract<MessageBody, { t: "result" }>;
