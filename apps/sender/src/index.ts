export { type Inventory, readInventory } from "./inventory.js";
