export { type Groups, parseGroups, splitHostList } from "./groups.js";
export {
  type Inventory,
  InventoryBuilder,
  type InventoryEntry,
  type InventoryOptions,
  parseInventory,
  targetKey,
} from "./inventory.js";
export { formatProblem, type InventoryProblem } from "./problems.js";
export { DEFAULT_MAX_HOSTS, expandHosts, HostRangeError, hasRange } from "./range.js";
export { failedTargets, type LatestResult, latestResults } from "./results.js";
export { hasControl, showText } from "./show-text.js";
export { formatTarget, parseTarget, type Target } from "./target.js";
