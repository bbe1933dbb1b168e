export { CSV_HEADER, formatResult, OUTPUT_FORMATS, type OutputFormat } from "./format.js";
export { SinkStore, type SinkStoreOptions } from "./store.js";
export { JobSummary } from "./summary.js";
