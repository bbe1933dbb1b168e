import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { createProbe } from "../../src/index.js";
import type { Probe, ProbeOptions } from "../../src/types.js";
import { generateKeyFiles, type KeyFiles, knownHostsLine, makeTempDir } from "./keys.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./ssh2-server.js";

export interface Fixture {
  dir: string;
  clientKey: KeyFiles;
  knownHostsPath: string;
  /** Starts a server (stopped after the test) and, unless `trust` is false, adds it to known_hosts. */
  server(opts?: Partial<TestServerOptions> & { trust?: boolean }): Promise<TestServer>;
  /** A probe using the fixture's key and known_hosts, no agent; closed after the test. */
  probe(opts?: ProbeOptions): Probe;
}

/** Per-test temp dir, client key and known_hosts; everything is removed in onTestFinished. */
export function useFixture(): Fixture {
  const { dir, cleanup } = makeTempDir();
  onTestFinished(cleanup);
  const clientKey = generateKeyFiles(dir, "id_ed25519");
  const knownHostsPath = join(dir, "known_hosts");
  return {
    dir,
    clientKey,
    knownHostsPath,
    async server(opts = {}) {
      const { trust = true, ...rest } = opts;
      const server = await startTestServer({ authorizedKeys: [clientKey.publicBlob], ...rest });
      onTestFinished(() => server.close());
      if (trust)
        appendFileSync(
          knownHostsPath,
          `${knownHostsLine(`[${server.host}]:${server.port}`, server.hostPublicKey)}\n`,
        );
      return server;
    },
    probe(opts = {}) {
      const probe = createProbe({
        agent: false,
        identityFiles: [clientKey.privateKeyPath],
        knownHosts: knownHostsPath,
        ...opts,
      });
      onTestFinished(() => probe.close());
      return probe;
    },
  };
}

/** Counts of this process's active handles by type (TCPSocketWrap, Timeout, ...). */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Waits (up to `ms`) until no more handles of `types` are active than in `before`; returns the final counts. */
export async function settleHandles(
  before: Record<string, number>,
  types = ["TCPSocketWrap", "Timeout"],
  ms = 500,
): Promise<Record<string, number>> {
  const until = Date.now() + ms;
  for (;;) {
    const now = activeHandles();
    if (types.every((t) => (now[t] ?? 0) <= (before[t] ?? 0)) || Date.now() > until) return now;
    await new Promise((r) => setTimeout(r, 10));
  }
}
