import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { optionError } from "@uptime/protocol/check";
import ssh2 from "ssh2";
import { loopbackAddresses } from "./addresses.js";
import type { Behaviour } from "./behaviours.js";
import { checkFleetOptions, type FleetOptions } from "./fleet-options.js";
import {
  createClientKey,
  createHostKey,
  derivedHostKey,
  ed25519PublicLine,
  type HostKey,
  hostPublicKeys,
  knownHostsLine,
} from "./keys.js";
import { type FleetStats, type HandlerContext, handleClient, handleSocket } from "./ssh-host.js";
import { type ExpectedUptime, expectedUptime } from "./uptime-text.js";

const { Server: SshServer } = ssh2;

/** One simulated host. */
export interface FleetHost {
  index: number;
  address: string;
  port: number;
  /** `user@address:port`, the inventory line. */
  target: string;
  behaviour: Behaviour;
  /** What the host answers to `uptime` (ok hosts), and what a parser must extract from it. */
  expected: ExpectedUptime;
  /** `ssh-ed25519 AAAA...`: the key known_hosts lists for this host (a `changed-hostkey` host presents another). */
  hostPublicKey: string;
}

/** A running fleet. */
export interface Fleet {
  hosts: FleetHost[];
  dir: string;
  /** `inventory.txt`: one `user@address:port` per host. */
  inventoryPath: string;
  /** `known_hosts`: one line per host (none for `hostkey-unknown` hosts), plain `[address]:port` names. */
  knownHostsPath: string;
  /** `known_hosts.hashed`: the same entries with hashed names (`|1|salt|hash`), as `HashKnownHosts yes` writes. */
  knownHostsHashedPath: string;
  /** `id_ed25519`: the one client key every host accepts (mode 0600); `.pub` beside it. */
  clientKeyPath: string;
  /** `ssh-ed25519 AAAA... comment` */
  clientPublicKey: string;
  /** `ssh-ed25519 AAAA...`: with `sharedHostKey` the key of every host; otherwise the first host's
   * (each host's is `hosts[i].hostPublicKey`). */
  hostPublicKey: string;
  /** True when every host serves the same host key. */
  sharedHostKey: boolean;
  /** The host behind `user@address:port`, `address:port` or `[address]:port`; undefined when none. */
  find(target: string): FleetHost | undefined;
  /** Counters since start. */
  stats(): FleetStats;
  /** Destroys every open connection (the listeners stay), as a host that restarts or a NAT that forgets. */
  dropConnections(): void;
  /** Stops every listener, drops every connection, removes the temp dir it created. Idempotent. */
  close(): Promise<void>;
}

const LISTEN_BATCH = 512;

function fail(option: string, expected: string, got: unknown): never {
  throw optionError(option, expected, got);
}

async function openFilesSoftLimit(): Promise<number | undefined> {
  try {
    const text = await readFile("/proc/self/limits", "utf8");
    const m = /^Max open files\s+(\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `hosts` simulated SSH hosts on loopback and writes inventory, known_hosts and the client key.
 *
 * @example
 * ```ts
 * const fleet = await startFleet({ hosts: 10, behaviours: { 3: "auth-reject" } });
 * console.log(fleet.inventoryPath, fleet.hosts[0]?.expected.text);
 * await fleet.close();
 * ```
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const checked = checkFleetOptions(options);
  const { count, first, firstAddress, port, hostsPerAddress, latencyMs, user, holdCapMs, firstIndex } =
    checked;
  const { dropFirstConnections, behaviourOf, logger } = checked;
  const firstSlot = Math.floor(firstIndex / hostsPerAddress);
  const addressCount =
    count === 0 ? 0 : Math.floor((firstIndex + count - 1) / hostsPerAddress) - firstSlot + 1;
  const addresses = loopbackAddresses(first, addressCount, firstSlot);
  if (addresses === undefined) {
    fail("hosts", `few enough to fit in 127.0.0.0/8 from ${firstAddress} (firstIndex ${firstIndex})`, count);
  }
  const softLimit = await openFilesSoftLimit();
  if (softLimit !== undefined && count + 64 > softLimit) {
    throw new Error(
      `startFleet: ${count} hosts need ${count} listening sockets but the open-files soft limit is ${softLimit}; ` +
        "raise it (ulimit -n) or split the fleet over several processes (firstAddress per process)",
    );
  }

  const hosts: FleetHost[] = [];
  for (let i = firstIndex; i < firstIndex + count; i++) {
    const address = addresses[Math.floor(i / hostsPerAddress) - firstSlot]!;
    const hostPort = port === 0 ? 0 : port + (i % hostsPerAddress);
    hosts.push({
      index: i,
      address,
      port: hostPort,
      target: "",
      behaviour: behaviourOf(i),
      expected: expectedUptime(i),
      hostPublicKey: "",
    });
  }

  const withOption = <T>(option: string, make: () => T): T => {
    try {
      return make();
    } catch (err) {
      throw err instanceof TypeError
        ? new TypeError(err.message.replace("startFleet:", `startFleet: ${option}:`))
        : err;
    }
  };
  const shared = options.sharedHostKey === true || options.hostKey !== undefined;
  if (options.sharedHostKey !== undefined && typeof options.sharedHostKey !== "boolean") {
    fail("sharedHostKey", "a boolean", options.sharedHostKey);
  }
  const sharedKey = shared ? withOption("hostKey", () => createHostKey(options.hostKey)) : undefined;
  const publicLines = sharedKey
    ? undefined
    : (await hostPublicKeys(firstIndex, count)).map((pub) => ed25519PublicLine(pub));
  for (const h of hosts) h.hostPublicKey = sharedKey?.publicLine ?? publicLines![h.index - firstIndex]!;
  const clientKey = withOption("clientKey", () => createClientKey(options.clientKey));
  const stats: FleetStats = {
    connections: 0,
    open: 0,
    authOk: 0,
    authFailed: 0,
    execs: 0,
    maxPreAuth: 0,
  };
  const sockets = new Set<Socket>();
  const debug = (message: string): void => logger?.debug?.(message);
  // One ssh2 server per host key: it holds the parsed key and the algorithm offer; listeners only inject sockets.
  // Per-host keys: a host's server (and private key) is made when a client first reaches it.
  const servers = new Map<number, InstanceType<typeof SshServer>>();
  const serverFor = (index: number, alternate: boolean): InstanceType<typeof SshServer> => {
    const id = alternate ? -1 - index : index;
    const sharedId = alternate ? -1 : 0;
    let server = servers.get(sharedKey ? sharedId : id);
    if (!server) {
      let key: HostKey;
      if (sharedKey) key = alternate ? createHostKey() : sharedKey;
      else key = derivedHostKey(index, alternate, alternate ? undefined : publicLines![index - firstIndex]);
      server = new SshServer({ hostKeys: [{ key: key.parsed }] }, (client) => handleClient(ctx, client));
      servers.set(sharedKey ? sharedId : id, server);
    }
    return server;
  };
  const ctx: HandlerContext = {
    clientKey,
    latencyMs,
    holdCapMs,
    dropFirst: dropFirstConnections,
    stats,
    preAuth: 0,
    sockets,
    debug,
    inject: (socket, index, alternate) => serverFor(index, alternate).injectSocket(socket),
  };

  const listeners: NetServer[] = [];
  const closeListeners = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
  };

  try {
    for (let start = 0; start < count; start += LISTEN_BATCH) {
      const batch = hosts.slice(start, start + LISTEN_BATCH);
      await Promise.all(
        batch.map(
          (host) =>
            new Promise<void>((resolve, reject) => {
              const runtime = {
                index: host.index,
                behaviour: host.behaviour,
                expected: host.expected,
                accepted: 0,
              };
              const server = createServer((socket) => handleSocket(ctx, runtime, socket));
              listeners.push(server);
              server.once("error", (err: NodeJS.ErrnoException) => {
                reject(
                  new Error(
                    `startFleet: cannot listen on ${host.address}:${host.port}: ${err.code ?? err.message}`,
                    { cause: err },
                  ),
                );
              });
              server.listen({ host: host.address, port: host.port, exclusive: true }, () => {
                const addr = server.address();
                if (addr !== null && typeof addr === "object") host.port = addr.port;
                host.target = `${user}@${host.address}:${host.port}`;
                server.on("error", (err) => debug(`listener ${host.target}: ${err.message}`));
                resolve();
              });
            }),
        ),
      );
    }
  } catch (err) {
    await closeListeners();
    throw err;
  }

  const createdDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "uptime-fleet-")));
  if (!createdDir) await mkdir(dir, { recursive: true });
  const inventoryPath = join(dir, "inventory.txt");
  const knownHostsPath = join(dir, "known_hosts");
  const clientKeyPath = join(dir, "id_ed25519");
  const knownHostsHashedPath = join(dir, "known_hosts.hashed");
  const knownLines: string[] = [];
  const hashedLines: string[] = [];
  for (const h of hosts) {
    if (h.behaviour === "hostkey-unknown") continue;
    knownLines.push(knownHostsLine(h.address, h.port, h.hostPublicKey));
    const name = h.port === 22 ? h.address : `[${h.address}]:${h.port}`;
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update(name).digest();
    hashedLines.push(`|1|${salt.toString("base64")}|${hash.toString("base64")} ${h.hostPublicKey}`);
  }
  await writeFile(inventoryPath, hosts.map((h) => `${h.target}\n`).join(""));
  await writeFile(knownHostsPath, knownLines.map((l) => `${l}\n`).join(""));
  await writeFile(knownHostsHashedPath, hashedLines.map((l) => `${l}\n`).join(""));
  await rm(clientKeyPath, { force: true });
  await writeFile(clientKeyPath, clientKey.privateOpenSSH, { mode: 0o600 });
  await chmod(clientKeyPath, 0o600);
  await writeFile(`${clientKeyPath}.pub`, `${clientKey.publicLine}\n`, { mode: 0o644 });
  logger?.info?.(`fleet of ${count} hosts listening from ${firstAddress}, files in ${dir}`);

  let byAddressPort: Map<string, FleetHost> | undefined;
  let closing: Promise<void> | undefined;
  return {
    hosts,
    dir,
    inventoryPath,
    knownHostsPath,
    knownHostsHashedPath,
    clientKeyPath,
    clientPublicKey: clientKey.publicLine,
    hostPublicKey: sharedKey?.publicLine ?? hosts[0]?.hostPublicKey ?? "",
    sharedHostKey: shared,
    find(target) {
      byAddressPort ??= new Map(hosts.map((h) => [`${h.address}:${h.port}`, h]));
      const hostPort = target.slice(target.lastIndexOf("@") + 1).replace(/^\[([^\]]+)\]/, "$1");
      return byAddressPort.get(hostPort);
    },
    stats: () => ({ ...stats }),
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    close() {
      closing ??= (async () => {
        await closeListeners();
        if (createdDir) await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
