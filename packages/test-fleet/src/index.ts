export type { AgentOptions, FleetAgent } from "./agent.js";
export { startAgent } from "./agent.js";
export type { Behaviour } from "./behaviours.js";
export {
  BEHAVIOURS,
  EXPECTED_ERROR_CODES,
  FAILURE_BEHAVIOURS,
  failureMix,
  isBehaviour,
} from "./behaviours.js";
export type { Fleet, FleetHost } from "./fleet.js";
export { startFleet } from "./fleet.js";
export type { FleetLogger, FleetOptions } from "./fleet-options.js";
export { generateKeyPair } from "./keys.js";
export type { FleetStats } from "./ssh-host.js";
export type { ExpectedUptime, UptimeFormat } from "./uptime-text.js";
export { expectedUptime, UPTIME_FORMATS } from "./uptime-text.js";
