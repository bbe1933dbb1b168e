export {
  analyzeRuns,
  bucketOf,
  countCategory,
  DEFAULT_CLOCK_SKEW_S,
  FAIL_IF_CATEGORIES,
  type FailIfCategory,
  rebootTolerance,
  UPTIME_BUCKETS,
} from "./analyze.js";
export { escapeHtml, HOST_FLAGS, type HtmlOptions, hostTableData, renderHtml } from "./html.js";
export { readJobRuns } from "./job-runs.js";
export {
  FALLBACK_PRECISION_S,
  type LineProblem,
  type ParsedLine,
  parseResultLine,
  RunBuilder,
  readRun,
} from "./read.js";
export { readRunFile } from "./read-file.js";
export { formatSpan, formatTime, parseSpan, requireSpan } from "./span.js";
export { formatReportText, matchedCategories, safeText, type TextOptions } from "./text.js";
export type {
  AnalyzeOptions,
  Bucket,
  Failure,
  HostRecord,
  OverPolicy,
  Reboot,
  Report,
  Run,
} from "./types.js";
