import { type Logger, optionError, optionNames } from "@uptime/protocol/check";
import type { CollectorOptions, ResultStore } from "./collector-types.js";
import type { CurveServerOptions } from "./curve.js";
import { intOption, loggerOption, optionsObject, stringListOption, stringOption } from "./options.js";

/** {@link CollectorOptions} checked, with their defaults (the CURVE keys are checked with the socket). */
export interface ResolvedCollectorOptions {
  endpoint: string;
  store: ResultStore;
  curve: CurveServerOptions | undefined;
  trust: readonly string[] | undefined;
  batchMaxMs: number;
  batchMax: number;
  lingerMs: number;
  logger: Logger;
}

/** Every option name of {@link CollectorOptions}; fails to compile when one is missing. */
const OPTION_NAMES = optionNames<CollectorOptions>()([
  "endpoint",
  "store",
  "curve",
  "trust",
  "batchMaxMs",
  "batchMax",
  "lingerMs",
  "logger",
]);

/**
 * Checks every option and fills in the defaults. A TypeError (code `INVALID_OPTION` or `UNKNOWN_OPTION`)
 * names the bad one: "Expected \`batchMax\` to be an integer from 1 to 100000, got 0 (number)".
 */
export function resolveCollectorOptions(input: CollectorOptions): ResolvedCollectorOptions {
  const options = optionsObject(input, OPTION_NAMES);
  const store = options.store as Partial<ResultStore> | undefined;
  if (
    typeof store !== "object" ||
    store === null ||
    typeof store.has !== "function" ||
    typeof store.write !== "function"
  ) {
    throw optionError("store", "an object with has(job, seq) and write(results)", store);
  }
  return {
    endpoint: stringOption(options.endpoint ?? "tcp://*:5558", "endpoint"),
    store: store as ResultStore,
    curve: options.curve as CurveServerOptions | undefined,
    trust: stringListOption(options.trust, "trust"),
    batchMaxMs: intOption(options.batchMaxMs, 20, "batchMaxMs", 0),
    batchMax: intOption(options.batchMax, 1000, "batchMax", 1, 100_000),
    lingerMs: intOption(options.lingerMs, 1000, "lingerMs", 0),
    logger: loggerOption(options.logger),
  };
}
