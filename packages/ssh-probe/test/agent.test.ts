import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAgent, startFleet } from "@uptime/test-fleet";
import { makeTempDir } from "@uptime/test-utils";
import { expect, onTestFinished, test } from "vitest";
import { AgentPool } from "../src/agent.js";
import { createProbe } from "../src/index.js";
import type { ProbeResult } from "../src/types.js";

test("a real ssh-agent under 1,000 concurrent probes: every host ok, over the agent pool's connections", async () => {
  const fleet = await startFleet({ hosts: 1000 });
  onTestFinished(() => fleet.close());
  const agent = await startAgent([fleet.clientKeyPath]);
  onTestFinished(() => agent.stop());
  const probe = createProbe({
    agent: agent.socketPath,
    identityFiles: [],
    knownHosts: fleet.knownHostsPath,
    concurrency: 1000,
    pool: false,
    // 1,000 handshakes at once, client and fleet in this process, on a loaded CI machine: generous limits.
    deadlineMs: 240_000,
    connectTimeoutMs: 120_000,
    handshakeTimeoutMs: 120_000,
    commandTimeoutMs: 120_000,
  });
  onTestFinished(() => probe.close());

  const results = await Promise.all(fleet.hosts.map((h) => probe.probe(h.target)));
  const failed = results
    .filter((r) => !r.ok)
    .map((r) => (r.ok ? "" : `${r.target}: ${r.error.code} ${r.error.message}`));
  expect(failed).toEqual([]);
  expect(fleet.stats().authOk).toBe(1000);
}, 300_000);

test("the agent pool lists identities once, signs over its few connections, and fails with AgentError without an agent", async () => {
  const fleet = await startFleet({ hosts: 0 });
  onTestFinished(() => fleet.close());
  const agent = await startAgent([fleet.clientKeyPath]);
  onTestFinished(() => agent.stop());
  const pool = new AgentPool(agent.socketPath, { connections: 2, maxInFlight: 4 });
  onTestFinished(() => pool.close());
  const lists = await Promise.all(Array.from({ length: 50 }, () => pool.listIdentities()));
  expect(lists.every((l) => l === lists[0])).toBe(true);
  expect(lists[0]!.map((k) => `${k.type} ${k.getPublicSSH().toString("base64")}`)).toEqual([
    fleet.clientPublicKey.split(" ").slice(0, 2).join(" "),
  ]);
  const key = lists[0]![0]!;
  const data = Buffer.from("session data to sign");
  const sigs = await Promise.all(Array.from({ length: 200 }, () => pool.sign(key, data, undefined)));
  for (const sig of sigs) expect(key.verify(data, sig)).toBe(true);
  const stats = pool.stats();
  expect(stats).toMatchObject({ listings: 1, requests: 201, retries: 0 });
  expect(stats.connects).toBeLessThanOrEqual(2);

  const nowhere = new AgentPool(join(makeTempDir("ssh-probe-noagent-").dir, "missing.sock"), {
    retryDelaysMs: [1, 1],
  });
  const err = await nowhere.listIdentities().catch((e: unknown) => e);
  expect(err).toMatchObject({ name: "AgentError", level: "agent", unreachable: true });
  expect((err as Error).message).toMatch(/cannot connect to ssh-agent at .*missing\.sock: ENOENT/);
  expect(nowhere.stats()).toMatchObject({ connects: 3, retries: 2 });
  // Down for longer than the retry window before a request starts: one connection attempt, no waiting.
  await new Promise((r) => setTimeout(r, 5));
  await expect(nowhere.listIdentities()).rejects.toMatchObject({ name: "AgentError" });
  expect(nowhere.stats()).toMatchObject({ connects: 4, retries: 2 });
});

test("the agent pool opens connections only as requests overlap, up to 32 by default", async () => {
  const fleet = await startFleet({ hosts: 0 });
  onTestFinished(() => fleet.close());
  const agent = await startAgent([fleet.clientKeyPath]);
  onTestFinished(() => agent.stop());
  const pool = new AgentPool(agent.socketPath);
  onTestFinished(() => pool.close());
  const [key] = await pool.listIdentities();
  const data = Buffer.from("session data to sign");
  // One request at a time needs one connection.
  for (let i = 0; i < 5; i++) expect(key!.verify(data, await pool.sign(key!, data, undefined))).toBe(true);
  expect(pool.stats()).toMatchObject({ connects: 1, open: 1 });
  // 300 at once: every connection of the pool carries one, the rest wait in the queue.
  const sigs = await Promise.all(Array.from({ length: 300 }, () => pool.sign(key!, data, undefined)));
  for (const sig of sigs) expect(key!.verify(data, sig)).toBe(true);
  expect(pool.stats()).toMatchObject({ connects: 32, open: 32, queued: 0, requests: 306, retries: 0 });
});

test("the agent killed mid-run: affected probes fail with AGENT after retries, never AUTH; a new agent at the same socket is used", async () => {
  const fleet = await startFleet({ hosts: 200 });
  onTestFinished(() => fleet.close());
  const home = makeTempDir("ssh-probe-agent-restart-");
  onTestFinished(home.cleanup);
  const socketPath = join(home.dir, "agent.sock");
  let agent = await startAgent([fleet.clientKeyPath], { socketPath });
  onTestFinished(() => agent.stop());
  const probe = createProbe({
    agent: socketPath,
    identityFiles: [],
    knownHosts: fleet.knownHostsPath,
    concurrency: 40,
    pool: false,
    retries: 1,
    deadlineMs: 20_000,
  });
  onTestFinished(() => probe.close());

  const results: ProbeResult[] = [];
  let killed: Promise<void> | undefined;
  for await (const r of probe.probeAll(fleet.hosts.map((h) => h.target))) {
    results.push(r);
    if (results.length === 40) killed = agent.stop();
  }
  await killed;
  const codes = new Map<string, number>();
  for (const r of results) {
    const code = r.ok ? "ok" : r.error.code;
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  expect([...codes.keys()].sort(), JSON.stringify([...codes])).toEqual(["AGENT", "ok"]);
  expect(codes.get("ok")).toBeGreaterThanOrEqual(40);
  for (const r of results) {
    if (r.ok) continue;
    // Retried once by the probe (retries: 1), after the agent client's own retries.
    expect(r.attempts, r.error.message).toBe(2);
    expect(r.error.message).toContain(socketPath);
  }

  // A new agent on the same socket: the same probe object picks it up.
  agent = await startAgent([fleet.clientKeyPath], { socketPath });
  const again: ProbeResult[] = [];
  for await (const r of probe.probeAll(fleet.hosts.map((h) => h.target))) again.push(r);
  const bad = again
    .filter((r) => !r.ok)
    .map((r) => (r.ok ? "" : `${r.target}: ${r.error.code} ${r.error.message}`));
  expect(bad).toEqual([]);
}, 120_000);

test("the agent refusing to sign (key removed with ssh-add -d, agent locked with ssh-add -x): AGENT saying so, never AUTH; with a key file as well, the key file gets in", async () => {
  const fleet = await startFleet({ hosts: 12 });
  onTestFinished(() => fleet.close());
  const agent = await startAgent([fleet.clientKeyPath]);
  onTestFinished(() => agent.stop());
  const home = makeTempDir("ssh-probe-agent-refuses-");
  onTestFinished(home.cleanup);
  const publicKeyPath = join(home.dir, "id_ed25519.pub");
  writeFileSync(publicKeyPath, `${fleet.clientPublicKey.trim()}\n`);
  // ssh-add -x / -X read the lock password through SSH_ASKPASS (no terminal here).
  const askpass = join(home.dir, "askpass.sh");
  writeFileSync(askpass, "#!/bin/sh\necho lock-password\n", { mode: 0o700 });
  const sshAdd = (...args: string[]) =>
    execFileSync("ssh-add", args, {
      env: {
        ...process.env,
        SSH_AUTH_SOCK: agent.socketPath,
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: "force",
        DISPLAY: ":0",
      },
      stdio: "pipe",
    });
  const options = {
    agent: agent.socketPath,
    knownHosts: fleet.knownHostsPath,
    pool: false,
    retries: 0,
  } as const;
  const agentOnly = createProbe({ ...options, identityFiles: [] });
  onTestFinished(() => agentOnly.close());
  const withKeyFile = createProbe({ ...options, identityFiles: [fleet.clientKeyPath] });
  onTestFinished(() => withKeyFile.close());
  const hosts = fleet.hosts.map((h) => h.target);
  const authOk = () => fleet.stats().authOk;

  // Both probes list the agent's key and log in with it.
  for (const probe of [agentOnly, withKeyFile]) {
    const r = await probe.probe(hosts[0]!);
    expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
  }

  const expectAgentFailure = (r: ProbeResult, why: RegExp) => {
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code, r.error.message).toBe("AGENT");
    expect(r.error.message).toContain(agent.socketPath);
    expect(r.error.message).toMatch(why);
    expect(r.error.message).not.toMatch(/permission denied/i);
  };

  // The key removed while both probes still hold the agent's old list: the agent refuses to sign with it.
  sshAdd("-d", publicKeyPath);
  expectAgentFailure(await agentOnly.probe(hosts[1]!), /agent refused to sign with ssh-ed25519 SHA256:/);
  // As OpenSSH goes on to the next identity, the key file is tried next and gets in.
  let before = authOk();
  const viaFile = await withKeyFile.probe(hosts[2]!);
  expect(viaFile.ok, viaFile.ok ? "" : viaFile.error.message).toBe(true);
  expect(authOk() - before).toBe(1);
  // The refusal made the probe list again: the agent holds no keys now, which is the agent's problem too.
  expectAgentFailure(await agentOnly.probe(hosts[3]!), /holds no keys/);
  expect((await withKeyFile.probe(hosts[4]!)).ok).toBe(true);

  // Key back: the next login lists again (an empty list is not kept) and gets in through the agent.
  sshAdd(fleet.clientKeyPath);
  for (const probe of [agentOnly, withKeyFile]) {
    const r = await probe.probe(hosts[5]!);
    expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
  }

  // Locked: a locked agent refuses every signature (and lists no keys).
  sshAdd("-x");
  expectAgentFailure(await agentOnly.probe(hosts[6]!), /agent refused to sign/);
  expectAgentFailure(await agentOnly.probe(hosts[7]!), /holds no keys/);
  before = authOk();
  const lockedViaFile = await withKeyFile.probe(hosts[8]!);
  expect(lockedViaFile.ok, lockedViaFile.ok ? "" : lockedViaFile.error.message).toBe(true);
  expect(authOk() - before).toBe(1);

  // Unlocked: the agent serves again.
  sshAdd("-X");
  const unlocked = await agentOnly.probe(hosts[9]!);
  expect(unlocked.ok, unlocked.ok ? "" : unlocked.error.message).toBe(true);
  // No host ever refused a key: every failure above was the agent's.
  expect(fleet.stats().authFailed).toBe(0);
}, 60_000);
