export { unlessAborted } from "./abort.js";
export {
  type CliSpec,
  type FlagSpec,
  formatHelp,
  GEN_KEY_FLAG,
  type ParsedFlags,
  type ParseOutcome,
  parseChoice,
  parseCli,
  parseDuration,
  parseEndpoint,
  parseInteger,
  UsageError,
} from "./args.js";
export {
  type CliRun,
  cliMain,
  createLogger,
  EXIT,
  type LogFields,
  type Logger,
  type MainContext,
  packageLogger,
  runMain,
} from "./main.js";
export { createProgress, type Progress, type ProgressState } from "./progress.js";
export { count } from "./text.js";
