export {
  Collector,
  type CollectorEvents,
  type CollectorMetrics,
  type CollectorOptions,
  type ResultStore,
} from "./collector.js";
export { type CurveClientOptions, type CurveServerOptions, ZAP_DOMAIN } from "./curve.js";
export {
  Dispatcher,
  type DispatcherEvents,
  type DispatcherMetrics,
  type DispatcherOptions,
  type JobSpec,
  type WorkerInfo,
} from "./dispatcher.js";
export type { JobProgress, JobReport, JobRun } from "./job-state.js";
export {
  generateKeyPair,
  KeyFileError,
  type KeyFileErrorCode,
  type KeyPair,
  readAllowList,
  readKeyPair,
  writeKeyPair,
} from "./keys.js";
export type { Logger } from "./logger.js";
export type { RejectCode, RejectInfo } from "./socket-util.js";
export {
  type ResultBody,
  type WorkerCurveOptions,
  WorkerLink,
  type WorkerLinkEvents,
  type WorkerLinkMetrics,
  type WorkerLinkOptions,
} from "./worker-link.js";
export { isZ85Key, z85Decode, z85Encode } from "./z85.js";
