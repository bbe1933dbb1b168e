export { toResult } from "./to-result.js";
