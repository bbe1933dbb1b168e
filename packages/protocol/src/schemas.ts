import * as v from "valibot";
import { LIMITS } from "./limits.js";

/** The protocol version every message carries in its `v` field. */
export const PROTOCOL_VERSION = 1;

const str = (max: number) => v.pipe(v.string(), v.maxLength(max));
const nonEmpty = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const positive = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const finite = v.pipe(v.number(), v.finite());
const version = v.literal(PROTOCOL_VERSION);

const jobId = nonEmpty(LIMITS.id);
const workerId = nonEmpty(LIMITS.id);
const timestamp = count; // milliseconds since the epoch

/** Sender to worker: probe one target. `seq` is unique within the job. */
export const TaskSchema = v.object({
  v: version,
  t: v.literal("task"),
  job: jobId,
  seq: count,
  attempt: v.pipe(positive, v.maxValue(LIMITS.attempts)),
  target: nonEmpty(LIMITS.target),
  command: v.optional(nonEmpty(LIMITS.command)),
});

/** Worker to sender: the worker is up and can take `credit` more tasks (capacity is its concurrency). */
export const ReadySchema = v.object({
  v: version,
  t: v.literal("ready"),
  worker: workerId,
  capacity: positive,
  credit: count,
});

/** Worker to sender: grant `credit` more tasks (slots freed since the last grant). */
export const CreditSchema = v.object({
  v: version,
  t: v.literal("credit"),
  worker: workerId,
  credit: positive,
});

/** Either direction: the sender's main loop is alive. `inFlight` is what the worker holds. */
export const HeartbeatSchema = v.object({
  v: version,
  t: v.literal("heartbeat"),
  from: nonEmpty(LIMITS.id),
  inFlight: v.optional(count),
});

/** Worker to sender: the worker is leaving; its tasks without a receipt go back to the queue now. */
export const ByeSchema = v.object({
  v: version,
  t: v.literal("bye"),
  worker: workerId,
});

/** What `uptime` said, parsed. */
export const UptimeSchema = v.object({
  raw: str(LIMITS.text),
  text: str(LIMITS.text),
  seconds: count,
  users: v.optional(count),
  load: v.optional(v.tuple([finite, finite, finite])),
});

/**
 * Why a probe failed: a stable `code` (see @uptime/ssh-probe) and a message for humans; `hop` names the bastion
 * (ProxyJump) that failed when it was not the target.
 */
export const ProbeErrorSchema = v.object({
  code: nonEmpty(LIMITS.code),
  message: str(LIMITS.text),
  hop: v.optional(nonEmpty(LIMITS.target)),
});

/** Where the target went after ssh_config: `target` stays the name as the inventory gives it. */
export const ResolvedSchema = v.object({
  hostname: nonEmpty(LIMITS.target),
  port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
  user: nonEmpty(LIMITS.target),
  /** The ProxyJump chain, first hop first. */
  jump: v.optional(v.pipe(v.array(nonEmpty(LIMITS.target)), v.maxLength(LIMITS.jumpHops))),
});

const resultBase = {
  v: version,
  t: v.literal("result"),
  job: jobId,
  seq: count,
  attempt: v.pipe(positive, v.maxValue(LIMITS.attempts)),
  target: nonEmpty(LIMITS.target),
  worker: workerId,
  slot: count,
  durationMs: v.pipe(finite, v.minValue(0)),
  at: timestamp,
  resolved: v.optional(ResolvedSchema),
};

/** Worker to sink: the outcome of one task, success or error. */
export const ResultSchema = v.variant("ok", [
  v.object({
    ...resultBase,
    ok: v.literal(true),
    /** Absent only for a custom command whose output is not `uptime` output. */
    uptime: v.optional(UptimeSchema),
    /** The command's output, for a custom command. */
    output: v.optional(str(LIMITS.text)),
  }),
  v.object({ ...resultBase, ok: v.literal(false), error: ProbeErrorSchema }),
]);

/**
 * Sink to sender (relayed by the worker that sent the results): these sequence numbers
 * of the job are durably stored; `failed` of them were error results.
 */
export const ReceiptSchema = v.object({
  v: version,
  t: v.literal("receipt"),
  job: jobId,
  seqs: v.pipe(v.array(count), v.minLength(1), v.maxLength(LIMITS.receiptSeqs)),
  failed: v.optional(count),
});

/** Sender to sink (and workers): a job begins, with `total` tasks numbered 0..total-1. */
export const JobStartSchema = v.object({
  v: version,
  t: v.literal("job-start"),
  job: jobId,
  total: count,
  at: timestamp,
});

/** Sender to sink: the job is over; `cancelled` when it was stopped before every task had a receipt. */
export const JobEndSchema = v.object({
  v: version,
  t: v.literal("job-end"),
  job: jobId,
  total: count,
  done: count,
  failed: count,
  cancelled: v.boolean(),
  at: timestamp,
});

/** Sender to workers: stop work on `job`, for `reason`. */
export const StopSchema = v.object({
  v: version,
  t: v.literal("stop"),
  job: jobId,
  reason: str(LIMITS.text),
});

/** Every message of the protocol, discriminated by `t`. */
export const MessageSchema = v.variant("t", [
  TaskSchema,
  ReadySchema,
  CreditSchema,
  HeartbeatSchema,
  ByeSchema,
  ResultSchema,
  ReceiptSchema,
  JobStartSchema,
  JobEndSchema,
  StopSchema,
]);

export type Task = v.InferOutput<typeof TaskSchema>;
export type Ready = v.InferOutput<typeof ReadySchema>;
export type Credit = v.InferOutput<typeof CreditSchema>;
export type Heartbeat = v.InferOutput<typeof HeartbeatSchema>;
export type Bye = v.InferOutput<typeof ByeSchema>;
/** The `uptime` of an ok result (ssh-probe's `Uptime` as it travels). */
export type ResultUptime = v.InferOutput<typeof UptimeSchema>;
/** The `error` of an error result: `code` and `message`. */
export type ResultErrorDetail = v.InferOutput<typeof ProbeErrorSchema>;
/** @deprecated Use {@link ResultUptime}; `Uptime` is also the name of ssh-probe's parsed uptime. */
export type Uptime = ResultUptime;
/** @deprecated Use {@link ResultErrorDetail}; `ProbeError` is also the name of ssh-probe's error class. */
export type ProbeError = ResultErrorDetail;
export type Result = v.InferOutput<typeof ResultSchema>;
export type ResultOk = Extract<Result, { ok: true }>;
export type ResultError = Extract<Result, { ok: false }>;
export type Resolved = v.InferOutput<typeof ResolvedSchema>;
export type Receipt = v.InferOutput<typeof ReceiptSchema>;
export type JobStart = v.InferOutput<typeof JobStartSchema>;
export type JobEnd = v.InferOutput<typeof JobEndSchema>;
export type Stop = v.InferOutput<typeof StopSchema>;
export type Message = v.InferOutput<typeof MessageSchema>;
export type MessageKind = Message["t"];

/** The kinds of message, in the order of the schema. */
export const MESSAGE_KINDS: readonly MessageKind[] = [
  "task",
  "ready",
  "credit",
  "heartbeat",
  "bye",
  "result",
  "receipt",
  "job-start",
  "job-end",
  "stop",
];
