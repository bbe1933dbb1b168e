import { intOption, stringOption } from "./options.js";
import type { WorkerCurveOptions, WorkerLinkOptions } from "./worker-link-types.js";
import { assertZ85Key } from "./z85.js";

/** {@link WorkerLinkOptions} checked, with their defaults (logger and curve apart). */
export type ResolvedWorkerLinkOptions = Required<Omit<WorkerLinkOptions, "curve" | "logger">> & {
  /** Tasks held at once: capacity plus prefetch. */
  window: number;
};

/** Checks every option (a TypeError names the bad one) and fills in the defaults. */
export function resolveWorkerLinkOptions(options: WorkerLinkOptions): ResolvedWorkerLinkOptions {
  const name = (option: string) => `WorkerLink options.${option}`;
  const capacity = intOption(options?.capacity, Number.NaN, name("capacity"), 1, 1_000_000);
  const prefetch = intOption(options.prefetch, Math.ceil(capacity * 0.1), name("prefetch"), 0);
  const window = capacity + prefetch;
  return {
    dispatcher: stringOption(options.dispatcher, name("dispatcher")),
    sink: stringOption(options.sink, name("sink")),
    id: stringOption(options.id, name("id"), 128),
    capacity,
    prefetch,
    window,
    heartbeatIntervalMs: intOption(options.heartbeatIntervalMs, 1000, name("heartbeatIntervalMs")),
    heartbeatTimeoutMs: intOption(options.heartbeatTimeoutMs, 5000, name("heartbeatTimeoutMs")),
    resendAfterMs: intOption(options.resendAfterMs, 10_000, name("resendAfterMs")),
    maxUnreceipted: intOption(options.maxUnreceipted, Math.max(4 * window, 1000), name("maxUnreceipted")),
    drainMs: intOption(options.drainMs, 2000, name("drainMs"), 0),
    lingerMs: intOption(options.lingerMs, 1000, name("lingerMs"), 0),
  };
}

/** Checks the CURVE keys of a worker; undefined without CURVE. */
export function resolveWorkerCurve(curve: WorkerCurveOptions | undefined): WorkerCurveOptions | undefined {
  if (!curve) return undefined;
  const name = (key: string) => `WorkerLink options.curve.${key}`;
  assertZ85Key(curve.publicKey, name("publicKey"));
  assertZ85Key(curve.secretKey, name("secretKey"));
  if (curve.dispatcherKey !== undefined) assertZ85Key(curve.dispatcherKey, name("dispatcherKey"));
  if (curve.sinkKey !== undefined) assertZ85Key(curve.sinkKey, name("sinkKey"));
  return { ...curve };
}
