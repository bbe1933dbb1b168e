import { checkKnownKeys, type Logger, optionError, optionNames } from "@uptime/protocol/check";
import { parseLoopback } from "./addresses.js";
import { type Behaviour, isBehaviour } from "./behaviours.js";

/** Where the fleet sends its diagnostics (it never prints): the shared `Logger` shape of `@uptime/protocol/check`. */
export type FleetLogger = Logger;

/** Options of {@link startFleet}. */
export interface FleetOptions {
  /** Number of hosts (0 or more). */
  hosts: number;
  /** First loopback address; later hosts count upwards, skipping .0 and .255. @default "127.1.0.1" */
  firstAddress?: string;
  /** Port for every listener; 0 gives each listener its own ephemeral port. With `hostsPerAddress` > 1 the hosts
   * of one address use `port`, `port + 1`, ... @default 0 */
  port?: number;
  /** Hosts that share one address (on different ports). @default 1 */
  hostsPerAddress?: number;
  /** Delay added to every write the server makes (one-way latency per write). @default 0 */
  latencyMs?: number;
  /** Behaviour per host index (missing indexes are `ok`), or a function of the index. @default all "ok" */
  behaviours?: Record<number, Behaviour> | ((index: number) => Behaviour);
  /** User name written into the inventory (any user name is accepted). @default "fleet" */
  user?: string;
  /** Directory for the written files; created if missing. @default a new temp dir, removed by close() */
  dir?: string;
  /** Upper bound for connections that would otherwise never end (silent, no-exec-reply, stream-forever).
   * @default 60000 */
  holdCapMs?: number;
  /** Index of the first host: hosts are `firstIndex`, `firstIndex + 1`, ... and their addresses, ports, expected
   * uptimes and behaviours follow the index, so several processes can serve slices of one big fleet.
   * @default 0 */
  firstIndex?: number;
  /** One host key for every host (OpenSSH ed25519 private key text): the old, best-case fleet whose host-key
   * caches always hit. Implies `sharedHostKey`. @default each host its own key */
  hostKey?: string;
  /** Serve one host key (`hostKey`, or a new one) on every host instead of a key per host, as a real fleet has.
   * @default false */
  sharedHostKey?: boolean;
  /** Client private key (OpenSSH ed25519) to accept instead of a new one. @default generated */
  clientKey?: string;
  /** Receives diagnostics. @default none */
  logger?: FleetLogger;
  /** Each host destroys its first this many TCP connections as soon as it accepts them, before any byte (a
   * host still starting up, or sshd over `MaxStartups`). @default 0 */
  dropFirstConnections?: number;
  /** Reboots since the fleet's base state: in each of reboots 1..N, 3% of the hosts (by index) reboot, and a
   * host's uptime is then a few minutes (see {@link rebootedIn}). Start the fleet again with N+1 to simulate
   * the reboots between two sweeps. @default 0 */
  reboots?: number;
}

function fail(option: string, expected: string, got: unknown): never {
  throw optionError(option, expected, got);
}

/** Every option name of {@link FleetOptions}; fails to compile when one is missing. */
const OPTION_NAMES = optionNames<FleetOptions>()([
  "hosts",
  "firstAddress",
  "port",
  "hostsPerAddress",
  "latencyMs",
  "behaviours",
  "user",
  "dir",
  "holdCapMs",
  "firstIndex",
  "hostKey",
  "sharedHostKey",
  "clientKey",
  "logger",
  "dropFirstConnections",
  "reboots",
]);

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** {@link FleetOptions} checked, with their defaults. */
export interface CheckedFleetOptions {
  count: number;
  /** `firstAddress` as a number. */
  first: number;
  firstAddress: string;
  port: number;
  hostsPerAddress: number;
  latencyMs: number;
  user: string;
  holdCapMs: number;
  firstIndex: number;
  dropFirstConnections: number;
  reboots: number;
  /** The behaviour of host `index`; throws an option error for one that is not a behaviour. */
  behaviourOf: (index: number) => Behaviour;
  logger: FleetLogger | undefined;
}

/** Checks `options` (TypeErrors naming the option, p-queue style) and fills in the defaults. */
export function checkFleetOptions(options: FleetOptions): CheckedFleetOptions {
  if (typeof options !== "object" || options === null) fail("options", "an object", options);
  checkKnownKeys(options, OPTION_NAMES);
  const { hosts: count, firstAddress = "127.1.0.1", port = 0, hostsPerAddress = 1, latencyMs = 0 } = options;
  const { user = "fleet", holdCapMs = 60_000, firstIndex = 0, behaviours, logger } = options;
  const { dropFirstConnections = 0, reboots = 0 } = options;
  if (!isInt(count, 0, 10_000_000)) fail("hosts", "a whole number >= 0", count);
  const first = parseLoopback(firstAddress);
  if (first === undefined) fail("firstAddress", "a 127.x.y.z address not ending in .0 or .255", firstAddress);
  if (!isInt(port, 0, 65_535)) fail("port", "a port number 0-65535", port);
  if (!isInt(hostsPerAddress, 1, 65_535)) fail("hostsPerAddress", "a whole number >= 1", hostsPerAddress);
  if (port !== 0 && port + hostsPerAddress - 1 > 65_535) {
    fail("port", `at most ${65_536 - hostsPerAddress} with hostsPerAddress ${hostsPerAddress}`, port);
  }
  if (!(typeof latencyMs === "number" && latencyMs >= 0 && latencyMs < 600_000)) {
    fail("latencyMs", "a number of ms >= 0", latencyMs);
  }
  if (!isInt(firstIndex, 0, 100_000_000)) fail("firstIndex", "a whole number >= 0", firstIndex);
  for (const key of ["hostKey", "clientKey"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "string") {
      fail(key, "an OpenSSH private key string", options[key]);
    }
  }
  if (!isInt(dropFirstConnections, 0, 1_000_000)) {
    fail("dropFirstConnections", "a whole number >= 0", dropFirstConnections);
  }
  if (!isInt(reboots, 0, 1000)) fail("reboots", "a whole number from 0 to 1000", reboots);
  if (!isInt(holdCapMs, 1, 3_600_000)) fail("holdCapMs", "a whole number of ms from 1 to 3600000", holdCapMs);
  if (typeof user !== "string" || !/^[A-Za-z0-9._-]+$/.test(user)) fail("user", "a plain user name", user);
  if (behaviours !== undefined && typeof behaviours !== "function" && typeof behaviours !== "object") {
    fail("behaviours", "a record or a function of the host index", behaviours);
  }
  const behaviourOf = (index: number): Behaviour => {
    const b = typeof behaviours === "function" ? behaviours(index) : (behaviours?.[index] ?? "ok");
    if (!isBehaviour(b)) fail(`behaviours[${index}]`, "a known behaviour", b);
    return b;
  };
  return {
    count,
    first,
    firstAddress,
    port,
    hostsPerAddress,
    latencyMs,
    user,
    holdCapMs,
    firstIndex,
    dropFirstConnections,
    reboots,
    behaviourOf,
    logger,
  };
}
