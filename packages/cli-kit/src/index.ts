export { unlessAborted } from "./abort.js";
export {
  type CliSpec,
  type FlagSpec,
  formatHelp,
  GEN_KEY_FLAG,
  MAX_DURATION_MS,
  type ParsedFlags,
  type ParseOutcome,
  parseChoice,
  parseCli,
  parseDuration,
  parseEndpoint,
  parseInteger,
  parseText,
  parseWith,
  UsageError,
} from "./args.js";
export {
  type CliRun,
  cliMain,
  createLogger,
  EXIT,
  exitCodeFor,
  type LogFields,
  type Logger,
  type MainContext,
  packageLogger,
  runMain,
  USAGE_ERROR_CODES,
} from "./main.js";
export { createProgress, type Progress, type ProgressState } from "./progress.js";
export { count } from "./text.js";
