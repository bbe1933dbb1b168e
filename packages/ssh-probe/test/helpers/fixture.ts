import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Behaviour,
  type Fleet,
  type FleetOptions,
  generateKeyPair,
  startFleet,
} from "@uptime/test-fleet";
import { knownHostsLine, makeTempDir, waitFor } from "@uptime/test-utils";
import { onTestFinished } from "vitest";
import { createProbe } from "../../src/index.js";
import type { Probe, ProbeOptions } from "../../src/types.js";

/** A simulated host (a fleet of one, or more with `hosts`) from `@uptime/test-fleet`, on 127.0.0.1. */
export interface TestServer extends Fleet {
  host: string;
  /** The first host's port. */
  port: number;
  /** Resolves once the fleet has no open connection, or rejects after `ms`. */
  waitForNoSockets(ms?: number): Promise<void>;
}

/** `startFleet` options (one host by default), plus what the fixture adds. */
export interface ServerOptions extends Partial<FleetOptions> {
  /** Every host's behaviour. @default "ok" */
  behaviour?: Behaviour;
  /** Add the hosts to the fixture's known_hosts. @default true */
  trust?: boolean;
}

export interface Fixture {
  dir: string;
  /** The client's private key file, accepted by every server of this fixture. */
  clientKeyPath: string;
  knownHostsPath: string;
  /**
   * Starts a simulated host on 127.0.0.1 with a host key of its own (stopped after the test) and, unless `trust`
   * is false, adds it to known_hosts.
   */
  server(opts?: ServerOptions): Promise<TestServer>;
  /** A probe using the fixture's key and known_hosts, no agent; closed after the test. */
  probe(opts?: ProbeOptions): Probe;
}

/** Per-test temp dir, client key and known_hosts; everything is removed in onTestFinished. */
export function useFixture(): Fixture {
  const { dir, cleanup } = makeTempDir("ssh-probe-");
  onTestFinished(cleanup);
  const clientKey = generateKeyPair("id_ed25519").privateKey;
  const clientKeyPath = join(dir, "id_ed25519");
  writeFileSync(clientKeyPath, clientKey, { mode: 0o600 });
  const knownHostsPath = join(dir, "known_hosts");
  return {
    dir,
    clientKeyPath,
    knownHostsPath,
    async server(opts = {}) {
      const { trust = true, behaviour = "ok", ...rest } = opts;
      const fleet = await startFleet({
        hosts: 1,
        firstAddress: "127.0.0.1",
        sharedHostKey: true,
        clientKey,
        holdCapMs: 20_000,
        behaviours: () => behaviour,
        ...rest,
      });
      onTestFinished(() => fleet.close());
      const first = fleet.hosts[0]!;
      if (trust) {
        for (const h of fleet.hosts)
          appendFileSync(knownHostsPath, `${knownHostsLine(`[${h.address}]:${h.port}`, h.hostPublicKey)}\n`);
      }
      return {
        ...fleet,
        host: first.address,
        port: first.port,
        waitForNoSockets: (ms = 2000) =>
          waitFor(() => fleet.stats().open === 0, {
            timeoutMs: ms,
            what: `the server side to close its ${fleet.stats().open} connections`,
          }),
      };
    },
    probe(opts = {}) {
      const probe = createProbe({
        agent: false,
        identityFiles: [clientKeyPath],
        knownHosts: knownHostsPath,
        ...opts,
      });
      onTestFinished(() => probe.close());
      return probe;
    },
  };
}
