import { LIMITS } from "@uptime/protocol";
import type { DispatcherOptions } from "./dispatcher-types.js";
import type { Logger } from "@uptime/protocol/check";
import { silentLogger } from "./rate-limited-warn.js";
import { intOption, stringOption } from "./options.js";

/** {@link DispatcherOptions} checked, with their defaults. */
export interface ResolvedDispatcherOptions {
  endpoint: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxAttempts: number;
  maxInFlight: number;
  maxWorkerCredit: number;
  lingerMs: number;
  logger: Logger;
}

/** Checks every option (a TypeError names the bad one) and fills in the defaults. */
export function resolveDispatcherOptions(options: DispatcherOptions): ResolvedDispatcherOptions {
  const name = (option: string) => `Dispatcher options.${option}`;
  return {
    endpoint: stringOption(options.endpoint ?? "tcp://*:5557", name("endpoint")),
    heartbeatIntervalMs: intOption(options.heartbeatIntervalMs, 1000, name("heartbeatIntervalMs")),
    heartbeatTimeoutMs: intOption(options.heartbeatTimeoutMs, 5000, name("heartbeatTimeoutMs")),
    maxAttempts: intOption(options.maxAttempts, 3, name("maxAttempts"), 1, LIMITS.attempts),
    maxInFlight: intOption(
      options.maxInFlight,
      Number.POSITIVE_INFINITY,
      name("maxInFlight"),
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxWorkerCredit: intOption(options.maxWorkerCredit, 11_000, name("maxWorkerCredit"), 1, 1_000_000),
    lingerMs: intOption(options.lingerMs, 1000, name("lingerMs"), 0),
    logger: options.logger ?? silentLogger,
  };
}
