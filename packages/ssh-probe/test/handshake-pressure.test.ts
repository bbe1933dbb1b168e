import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type KeyFiles,
  knownHostsLine,
  makeTempDir,
  type Sshd,
  sshKeygen,
  startSshd,
} from "@uptime/test-utils";
import { afterAll, beforeAll, expect, onTestFinished, test } from "vitest";
import { createProbe } from "../src/index.js";
import type { ProbeOptions, ProbeResult } from "../src/types.js";

// sshd drops every unauthenticated connection beyond 3 (MaxStartups start:rate:full = 3:100:3), the way a
// busy bastion or a box behind many aliases does. 200 probes at once must all end ok within their deadline.
let sshd: Sshd;
let dir: string;
let cleanup: () => void;
let client: KeyFiles;
let knownHosts: string;

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("ssh-probe-maxstartups-"));
  client = sshKeygen(dir, "id_ed25519");
  // SHLVL=1 keeps bash from sourcing ~/.bashrc for `bash -c uptime` (a .bashrc that takes a lock, as pyenv's
  // rehash does, serialises 200 sessions behind it; that is the machine, not the handshake under test).
  sshd = await startSshd([client.publicKey], ["MaxStartups 3:100:3", "SetEnv SHLVL=1"]);
  knownHosts = join(dir, "known_hosts");
  writeFileSync(
    knownHosts,
    `${knownHostsLine(`[127.0.0.1]:${sshd.port},[localhost]:${sshd.port}`, sshd.hostPublicKey)}\n`,
  );
});

afterAll(async () => {
  await sshd?.stop();
  cleanup?.();
});

async function run200(opts: ProbeOptions): Promise<ProbeResult[]> {
  const probe = createProbe({
    agent: false,
    identityFiles: [client.privateKeyPath],
    knownHosts,
    concurrency: 200,
    deadlineMs: 60_000,
    ...opts,
  });
  onTestFinished(() => probe.close());
  // Two names for the one machine: the handshake limit is per resolved address, so they share it.
  const targets = Array.from({ length: 200 }, (_, i) => `${i % 2 ? "localhost" : "127.0.0.1"}:${sshd.port}`);
  const results = await Promise.all(targets.map((t) => probe.probe(t)));
  const attempts = results.map((r) => r.attempts);
  const histogram: Record<number, number> = {};
  for (const a of attempts) histogram[a] = (histogram[a] ?? 0) + 1;
  console.log(
    `MaxStartups 3:100:3, 200 probes (${JSON.stringify(opts)}): ${results.filter((r) => r.ok).length} ok, ` +
      `attempts total ${attempts.reduce((a, b) => a + b, 0)}, max ${Math.max(...attempts)}, ` +
      `probes by attempts ${JSON.stringify(histogram)}`,
  );
  return results;
}

function expectAllOk(results: ProbeResult[]): void {
  const failed = results.filter((r) => !r.ok);
  expect(
    failed.map((r) => (r.ok ? "" : `${r.error.code} ${r.error.message}`)).slice(0, 5),
    `${failed.length} of 200 failed`,
  ).toEqual([]);
}

test("a fresh connection per probe (the worker's default): every probe ok, drops retried with backoff", async () => {
  expectAllOk(await run200({ pool: false }));
}, 120_000);

test("pooled: connections returned while waiting for a handshake slot are reused", async () => {
  const results = await run200({});
  expectAllOk(results);
  expect(results.some((r) => r.ok && r.reused)).toBe(true);
}, 120_000);
