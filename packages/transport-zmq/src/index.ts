export type { Logger } from "@uptime/protocol/check";
export { Collector } from "./collector.js";
export type { CollectorEvents, CollectorMetrics, CollectorOptions, ResultStore } from "./collector-types.js";
export { type CurveClientOptions, type CurveServerOptions, ZAP_DOMAIN } from "./curve.js";
export { Dispatcher } from "./dispatcher.js";
export type {
  DispatcherEvents,
  DispatcherMetrics,
  DispatcherOptions,
  JobSpec,
  WorkerInfo,
  WorkerLostReason,
} from "./dispatcher-types.js";
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
export { type ServeTasksOptions, serveTasks, type TaskHandler, type TaskLink } from "./serve-tasks.js";
export { describeExposure, type Exposure, exposureWarning } from "./server-router.js";
export { Slots } from "./slots.js";
export type { RejectCode, RejectInfo } from "./socket-util.js";
export { LOOPBACK_NETWORKS, parseCidr, parseTrustList, TrustList } from "./trust.js";
export { WorkerLink } from "./worker-link.js";
export type {
  ResultBody,
  WorkerCurveOptions,
  WorkerLinkEvents,
  WorkerLinkMetrics,
  WorkerLinkOptions,
} from "./worker-link-types.js";
export { isZ85Key, z85Decode, z85Encode } from "./z85.js";
