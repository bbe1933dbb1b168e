import { LIMITS } from "@uptime/protocol";
import { type Logger, optionError, optionNames } from "@uptime/protocol/check";
import type { CurveServerOptions } from "./curve.js";
import type { DispatcherOptions, JobSpec } from "./dispatcher-types.js";
import { intOption, loggerOption, optionsObject, stringListOption, stringOption } from "./options.js";

/** {@link DispatcherOptions} checked, with their defaults (the CURVE keys are checked with the socket). */
export interface ResolvedDispatcherOptions {
  endpoint: string;
  curve: CurveServerOptions | undefined;
  trust: readonly string[] | undefined;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxAttempts: number;
  maxInFlight: number;
  maxWorkerCredit: number;
  lingerMs: number;
  logger: Logger;
}

/** Every option name of {@link DispatcherOptions}; fails to compile when one is missing. */
const OPTION_NAMES = optionNames<DispatcherOptions>()([
  "endpoint",
  "curve",
  "trust",
  "maxWorkerCredit",
  "heartbeatIntervalMs",
  "heartbeatTimeoutMs",
  "maxAttempts",
  "maxInFlight",
  "lingerMs",
  "logger",
]);

/**
 * Checks every option and fills in the defaults. A TypeError (code `INVALID_OPTION` or `UNKNOWN_OPTION`)
 * names the bad one: "Expected \`maxAttempts\` to be an integer from 1 to 100, got 0 (number)".
 */
export function resolveDispatcherOptions(input: DispatcherOptions = {}): ResolvedDispatcherOptions {
  const options = optionsObject(input, OPTION_NAMES);
  return {
    endpoint: stringOption(options.endpoint ?? "tcp://*:5557", "endpoint"),
    curve: options.curve as CurveServerOptions | undefined,
    trust: stringListOption(options.trust, "trust"),
    heartbeatIntervalMs: intOption(options.heartbeatIntervalMs, 1000, "heartbeatIntervalMs"),
    heartbeatTimeoutMs: intOption(options.heartbeatTimeoutMs, 5000, "heartbeatTimeoutMs"),
    maxAttempts: intOption(options.maxAttempts, 3, "maxAttempts", 1, LIMITS.attempts),
    maxInFlight: intOption(
      options.maxInFlight,
      Number.POSITIVE_INFINITY,
      "maxInFlight",
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxWorkerCredit: intOption(options.maxWorkerCredit, 11_000, "maxWorkerCredit", 1, 1_000_000),
    lingerMs: intOption(options.lingerMs, 1000, "lingerMs", 0),
    logger: loggerOption(options.logger),
  };
}

const JOB_NAMES = optionNames<JobSpec>()(["id", "targets", "command", "stored"]);
const STORED_NAMES = ["seqs", "failed"] as const;

/** Checks a job spec for `runJob` (names like `job.targets[3]`); returns its targets, copied. */
export function checkJobSpec(input: JobSpec): { id: string; targets: string[]; command: string | undefined } {
  const spec = optionsObject(input, JOB_NAMES, "job", "job.");
  const id = stringOption(spec.id, "job.id", LIMITS.id);
  if (!Array.isArray(spec.targets)) throw optionError("job.targets", "an array of strings", spec.targets);
  const targets: string[] = spec.targets.slice();
  for (let i = 0; i < targets.length; i++) stringOption(targets[i], `job.targets[${i}]`, LIMITS.target);
  const command =
    spec.command === undefined ? undefined : stringOption(spec.command, "job.command", LIMITS.command);
  if (spec.stored !== undefined) {
    const stored = optionsObject(spec.stored, STORED_NAMES, "job.stored", "job.stored.");
    const seqs = stored.seqs as { [Symbol.iterator]?: unknown } | null | undefined;
    if (typeof seqs?.[Symbol.iterator] !== "function") {
      throw optionError("job.stored.seqs", "an iterable of task numbers", stored.seqs);
    }
    intOption(stored.failed, 0, "job.stored.failed", 0, Number.MAX_SAFE_INTEGER);
  }
  return { id, targets, command };
}
