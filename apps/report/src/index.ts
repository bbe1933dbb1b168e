export { main, spec } from "./cli.js";
