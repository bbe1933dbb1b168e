import { type Logger, optionError, optionNames } from "@uptime/protocol/check";
import { intOption, loggerOption, optionsObject, stringOption } from "./options.js";
import type { WorkerCurveOptions, WorkerLinkOptions } from "./worker-link-types.js";
import { assertZ85Key } from "./z85.js";

/** {@link WorkerLinkOptions} checked, with their defaults (curve apart). */
export type ResolvedWorkerLinkOptions = Required<Omit<WorkerLinkOptions, "curve" | "logger">> & {
  /** Tasks held at once: capacity plus prefetch. */
  window: number;
  logger: Logger;
};

/** Every option name of {@link WorkerLinkOptions}; fails to compile when one is missing. */
const OPTION_NAMES = optionNames<WorkerLinkOptions>()([
  "dispatcher",
  "sink",
  "id",
  "capacity",
  "prefetch",
  "curve",
  "heartbeatIntervalMs",
  "heartbeatTimeoutMs",
  "resendAfterMs",
  "maxUnreceipted",
  "drainMs",
  "lingerMs",
  "logger",
]);
const CURVE_NAMES = optionNames<WorkerCurveOptions>()(["publicKey", "secretKey", "dispatcherKey", "sinkKey"]);

/**
 * Checks every option and fills in the defaults. A TypeError (code `INVALID_OPTION` or `UNKNOWN_OPTION`)
 * names the bad one: "Expected \`capacity\` to be an integer from 1 to 1000000, got 0 (number)".
 */
export function resolveWorkerLinkOptions(input: WorkerLinkOptions): ResolvedWorkerLinkOptions {
  const options = optionsObject(input, OPTION_NAMES);
  // Required: no fallback passes the check.
  const capacity = intOption(options.capacity, Number.NaN, "capacity", 1, 1_000_000);
  if (Number.isNaN(capacity)) throw optionError("capacity", "an integer from 1 to 1000000", undefined);
  const prefetch = intOption(options.prefetch, Math.ceil(capacity * 0.1), "prefetch", 0);
  const window = capacity + prefetch;
  return {
    dispatcher: stringOption(options.dispatcher, "dispatcher"),
    sink: stringOption(options.sink, "sink"),
    id: stringOption(options.id, "id", 128),
    capacity,
    prefetch,
    window,
    heartbeatIntervalMs: intOption(options.heartbeatIntervalMs, 1000, "heartbeatIntervalMs"),
    heartbeatTimeoutMs: intOption(options.heartbeatTimeoutMs, 5000, "heartbeatTimeoutMs"),
    resendAfterMs: intOption(options.resendAfterMs, 10_000, "resendAfterMs"),
    maxUnreceipted: intOption(options.maxUnreceipted, Math.max(4 * window, 1000), "maxUnreceipted"),
    drainMs: intOption(options.drainMs, 2000, "drainMs", 0),
    lingerMs: intOption(options.lingerMs, 1000, "lingerMs", 0),
    logger: loggerOption(options.logger),
  };
}

/** Checks the CURVE keys of a worker; undefined without CURVE. */
export function resolveWorkerCurve(input: unknown): WorkerCurveOptions | undefined {
  if (input === undefined) return undefined;
  const curve = optionsObject(input, CURVE_NAMES, "curve", "curve.");
  assertZ85Key(curve.publicKey, "curve.publicKey");
  assertZ85Key(curve.secretKey, "curve.secretKey");
  if (curve.dispatcherKey !== undefined) assertZ85Key(curve.dispatcherKey, "curve.dispatcherKey");
  if (curve.sinkKey !== undefined) assertZ85Key(curve.sinkKey, "curve.sinkKey");
  return { ...(curve as unknown as WorkerCurveOptions) };
}
