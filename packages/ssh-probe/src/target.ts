// Targets and inventories live in @uptime/inventory (no SSH stack there, so the sender can use
// them without loading ssh2); re-exported here for the library's compatibility.
export { formatTarget, type Inventory, parseInventory, parseTarget, type Target } from "@uptime/inventory";
