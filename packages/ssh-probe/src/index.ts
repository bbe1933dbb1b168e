export { PROBE_ERROR_CODES, type ProbeErrorCode } from "./errors.js";
export { fingerprint, knownHostsName } from "./known-hosts.js";
export { getOpenFilesLimit } from "./limits.js";
export { createProbe } from "./probe.js";
export {
  defaultSshConfigFiles,
  loadSshConfig,
  type ResolvedTarget,
  type ResolveTargetOptions,
  resolveTarget,
  type SshConfig,
} from "./ssh-config.js";
export { formatTarget, type Inventory, parseInventory, parseTarget } from "./target.js";
export type {
  CommandResult,
  HostKeyPolicy,
  PoolOptions,
  Probe,
  ProbeCallOptions,
  ProbeFailure,
  ProbeLogger,
  ProbeOptions,
  ProbeResult,
  ProbeStats,
  ProbeSuccess,
  ResolvedSummary,
  Target,
  Uptime,
} from "./types.js";
export { parseUptime } from "./uptime.js";
