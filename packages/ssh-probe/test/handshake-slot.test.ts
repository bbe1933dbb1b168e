import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleet } from "@uptime/test-fleet";
import { makeTempDir } from "@uptime/test-utils";
import { expect, onTestFinished, test } from "vitest";
import { createProbe } from "../src/index.js";

// Many aliases of one box share its per-address handshake limit. With one handshake at a time and slow
// handshakes, the last alias waits for the others far longer than its connect and handshake timeouts: that wait
// must not count against them (only against deadlineMs).
test("waiting for a per-address handshake slot is not charged to the connect or handshake timeout", async () => {
  // Every write of the host leaves 200 ms late: a handshake takes several of them, about a second.
  const fleet = await startFleet({ hosts: 1, latencyMs: 200 });
  onTestFinished(() => fleet.close());
  const host = fleet.hosts[0]!;
  const { dir, cleanup } = makeTempDir("ssh-probe-slot-");
  onTestFinished(cleanup);
  const aliases = Array.from({ length: 8 }, (_, i) => `alias${i}`);
  const config = join(dir, "config");
  writeFileSync(
    config,
    `Host ${aliases.join(" ")}\n  HostName ${host.address}\n  Port ${host.port}\n  User fleet\n` +
      `  UserKnownHostsFile ${fleet.knownHostsPath}\n  GlobalKnownHostsFile none\n`,
  );
  const timeoutMs = 3000;
  const probe = createProbe({
    sshConfig: config,
    agent: false,
    identityFiles: [fleet.clientKeyPath],
    pool: false,
    perHostConcurrency: 1,
    connectTimeoutMs: timeoutMs,
    handshakeTimeoutMs: timeoutMs,
    handshakeRetries: 0,
    retries: 0,
    concurrency: aliases.length,
    deadlineMs: 120_000,
  });
  onTestFinished(() => probe.close());

  const one = await probe.probe(aliases[0]!);
  expect(one.ok, one.ok ? "" : `${one.error.code} ${one.error.message}`).toBe(true);
  // One handshake fits the timeouts; eight in a row do not.
  expect(one.durationMs).toBeLessThan(timeoutMs);

  const results = await Promise.all(aliases.map((a) => probe.probe(a)));
  const failed = results
    .filter((r) => !r.ok)
    .map((r) => (r.ok ? "" : `${r.target}: ${r.error.code} ${r.error.message}`));
  expect(failed).toEqual([]);
  // The handshakes ran one at a time (the limit is per resolved address, shared by the aliases), so the last
  // one waited longer than the timeouts and still succeeded.
  const slowest = Math.max(...results.map((r) => r.durationMs));
  expect(slowest).toBeGreaterThan(timeoutMs);
  expect(fleet.stats().authOk).toBe(aliases.length + 1);
}, 180_000);
