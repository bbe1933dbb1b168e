export { Slots } from "./slots.js";
export { toResult } from "./to-result.js";
