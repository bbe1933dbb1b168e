export {
  type BootTime,
  bootTime,
  CSV_HEADER,
  formatResult,
  OUTPUT_FORMATS,
  type OutputFormat,
  uptimePrecision,
} from "./format.js";
export { SeqSet } from "./seq-set.js";
export {
  SinkStore,
  type SinkStoreMetrics,
  type SinkStoreOptions,
  StoreWriteError,
} from "./store.js";
