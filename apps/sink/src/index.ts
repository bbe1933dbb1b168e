export { JobSummary } from "./summary.js";
