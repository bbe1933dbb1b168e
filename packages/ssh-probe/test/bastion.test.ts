import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KeyFiles, knownHostsLine, makeTempDir, sshKeygen, waitFor } from "@uptime/test-utils";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { createProbe } from "../src/index.js";
import type { ProbeOptions } from "../src/types.js";
import { createFleetNamespaces, type Fleet, type NsSshd, startNsSshd } from "./helpers/netns.js";

// A real OpenSSH sshd as the bastion, in a namespace linked to ours; a real sshd as the target, in a namespace
// linked only to the bastion's. The target's address does not exist here: only the bastion reaches it.
let fleet: Fleet;
let dir: string;
let cleanup: () => void;
let client: KeyFiles;
let stranger: KeyFiles;
let bastionKey: KeyFiles;
let targetKey: KeyFiles;
let bastion: NsSshd;
let target: NsSshd;
let config: string;
let knownHosts: string;
const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();

async function startBastion(): Promise<NsSshd> {
  return startNsSshd(
    fleet.bastionNs,
    dir,
    "bastion",
    [fleet.bastionOuter, fleet.bastionInner],
    bastionKey.privateKeyPath,
    [client.publicKey],
  );
}

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("sshcfg-bastion-"));
  fleet = createFleetNamespaces();
  client = sshKeygen(dir, "id_ed25519");
  stranger = sshKeygen(dir, "id_stranger");
  bastionKey = sshKeygen(dir, "bastion_host_key");
  targetKey = sshKeygen(dir, "target_host_key");
  bastion = await startBastion();
  target = await startNsSshd(fleet.targetNs, dir, "target", [fleet.target], targetKey.privateKeyPath, [
    client.publicKey,
  ]);
  knownHosts = join(dir, "known_hosts");
  writeFileSync(
    knownHosts,
    [
      knownHostsLine(`${fleet.bastionOuter},${fleet.bastionInner}`, bastionKey.publicKey),
      knownHostsLine(fleet.target, targetKey.publicKey),
    ].join("\n"),
  );
  config = join(dir, "config");
  writeFileSync(
    config,
    [
      `Host bastion\n  HostName ${fleet.bastionOuter}\n  User ${me}`,
      // The same sshd by its inner address, reachable from the bastion only: the second hop of a chain.
      `Host bastion2\n  HostName ${fleet.bastionInner}\n  User ${me}`,
      `Host unknown-bastion\n  HostName ${fleet.bastionOuter}\n  UserKnownHostsFile ${join(dir, "empty")}`,
      `Host rejecting-bastion\n  HostName ${fleet.bastionOuter}\n  IdentityFile ${stranger.privateKeyPath}`,
      `Host web\n  HostName ${fleet.target}\n  ProxyJump bastion`,
      `Host web-2hop\n  HostName ${fleet.target}\n  ProxyJump bastion,bastion2`,
      `Host web-unknown\n  HostName ${fleet.target}\n  ProxyJump unknown-bastion`,
      `Host web-rejected\n  HostName ${fleet.target}\n  ProxyJump rejecting-bastion`,
      `Host web-nowhere\n  HostName 10.201.254.254\n  ProxyJump bastion`,
      // A first hop with a ProxyJump of its own (its inner address is reachable through the bastion only).
      `Host bastion2-own\n  HostName ${fleet.bastionInner}\n  ProxyJump bastion`,
      `Host web-first-own\n  HostName ${fleet.target}\n  ProxyJump bastion2-own`,
      // A later hop's own ProxyJump does not apply (if it did, 10.201.254.253 goes nowhere).
      `Host bastion2-ignored\n  HostName ${fleet.bastionInner}\n  ProxyJump 10.201.254.253`,
      `Host web-later-own\n  HostName ${fleet.target}\n  ProxyJump bastion,bastion2-ignored`,
      `Host loop-a\n  ProxyJump loop-b`,
      `Host loop-b\n  ProxyJump loop-a`,
      `Host web-loop\n  HostName ${fleet.target}\n  ProxyJump loop-a`,
      `Host self-loop\n  HostName ${fleet.bastionOuter}\n  ProxyJump self-loop`,
      `Host *\n  User ${me}\n  UserKnownHostsFile ${knownHosts}\n  StrictHostKeyChecking yes`,
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await bastion?.stop();
  await target?.stop();
  fleet?.remove();
  cleanup?.();
});

function probeWith(opts: ProbeOptions = {}) {
  const probe = createProbe({
    sshConfig: config,
    agent: false,
    identityFiles: [client.privateKeyPath],
    deadlineMs: 30_000,
    handshakeTimeoutMs: 15_000,
    commandTimeoutMs: 15_000,
    ...opts,
  });
  onTestFinished(() => probe.close());
  return probe;
}

describe("ProxyJump through a real OpenSSH bastion", () => {
  test("the target is not reachable directly, and is through the bastion", async () => {
    const probe = probeWith({ connectTimeoutMs: 1000, deadlineMs: 3000 });
    const direct = await probe.probe(fleet.target);
    expect(direct.ok).toBe(false);
    const r = await probe.probe("web");
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message} ${r.error.hop ?? ""}`).toBe(true);
    expect(r).toMatchObject({ target: "web", resolved: { hostname: fleet.target, jump: ["bastion"] } });
  });

  test("many targets share one bastion connection; more are opened at the channel cap", async () => {
    const probe = probeWith({ pool: false, jumpChannels: 4 });
    const results = await Promise.all(Array.from({ length: 20 }, () => probe.probe("web")));
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? "" : r.error.message))).toEqual([]);
    // At most 20/4 bastion connections, not one per target (the bastion sshd sees them as connections).
    const open = probe.stats().open;
    expect(open).toBeGreaterThanOrEqual(1);
    expect(open).toBeLessThanOrEqual(5);
  });

  test("an idle bastion connection is closed", async () => {
    const probe = probeWith({ pool: { maxConnections: 0, idleTimeoutMs: 300 } });
    const r = await probe.probe("web");
    expect(r.ok).toBe(true);
    expect(probe.stats().open).toBe(1);
    await waitFor(() => probe.stats().open === 0, {
      timeoutMs: 10_000,
      what: "the idle connection to close",
    });
  });

  test("a two-hop chain", async () => {
    const r = await probeWith().probe("web-2hop");
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message} ${r.error.hop ?? ""}`).toBe(true);
  });

  test("-J as an option (like ssh -J) with a target by address", async () => {
    const r = await probeWith({ jump: ["bastion"] }).probe(fleet.target);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
  });

  test("the first hop's own ProxyJump comes first, later hops' do not apply (as OpenSSH's ssh)", async () => {
    const probe = probeWith();
    const r = await probe.probe("web-first-own");
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message} ${r.error.hop ?? ""}`).toBe(true);
    expect(r).toMatchObject({ resolved: { jump: ["bastion", "bastion2-own"] } });
    const later = await probe.probe("web-later-own");
    expect(later.ok, later.ok ? "" : `${later.error.code} ${later.error.message}`).toBe(true);
    expect(later).toMatchObject({ resolved: { jump: ["bastion", "bastion2-ignored"] } });
    // -J as an option: the same rule for its first hop.
    const viaOption = await probeWith({ jump: ["bastion2-own"] }).probe(fleet.target);
    expect(viaOption.ok, viaOption.ok ? "" : `${viaOption.error.code} ${viaOption.error.message}`).toBe(true);

    // The oracle: OpenSSH's ssh with the same config (and our key for every hop) reaches both targets.
    const sshConfigFile = join(dir, "config-openssh");
    writeFileSync(
      sshConfigFile,
      `IdentityFile ${client.privateKeyPath}\nIdentitiesOnly yes\n${readFileSync(config, "utf8")}`,
    );
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    for (const host of ["web-first-own", "web-later-own"]) {
      const out = spawnSync("ssh", ["-F", sshConfigFile, "-o", "BatchMode=yes", host, "echo", "reached"], {
        encoding: "utf8",
        env,
        timeout: 30_000,
      });
      expect(`${out.status} ${out.stdout.trim()}`, out.stderr).toBe("0 reached");
    }
  }, 90_000);

  test("a ProxyJump loop fails at once with LOCAL and the loop named", async () => {
    const probe = probeWith();
    const loop = await probe.probe("web-loop");
    expect(loop).toMatchObject({ ok: false, attempts: 0, error: { code: "LOCAL" } });
    expect(loop.ok ? "" : loop.error.message).toBe(
      'ssh_config: ProxyJump loop: "loop-a" is reached through "loop-b" is reached through "loop-a"',
    );
    const self = await probe.probe("self-loop");
    expect(self).toMatchObject({ ok: false, error: { code: "LOCAL" } });
    expect(self.ok ? "" : self.error.message).toContain('"self-loop" is reached through "self-loop"');
  });

  test("a bastion with an unknown host key fails its targets with the hop named, once", async () => {
    const probe = probeWith();
    const results = await Promise.all(Array.from({ length: 5 }, () => probe.probe("web-unknown")));
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN", hop: "unknown-bastion" } });
    }
  });

  test("a bastion that rejects our key fails its targets with AUTH and the hop", async () => {
    const r = await probeWith().probe("web-rejected");
    expect(r).toMatchObject({ ok: false, error: { code: "AUTH", hop: "rejecting-bastion" } });
  });

  test("a target the bastion cannot reach fails with the hop named", async () => {
    const r = await probeWith({ connectTimeoutMs: 3000 }).probe("web-nowhere");
    expect(r).toMatchObject({ ok: false, error: { hop: "bastion" } });
  });

  test("a bastion killed mid-run: probes over it end (nothing hangs), and it is used again once back", async () => {
    const probe = probeWith({ pool: false, command: "sleep 1; uptime" });
    const running = Promise.all(Array.from({ length: 10 }, () => probe.probe("web")));
    await new Promise((r) => setTimeout(r, 700));
    await bastion.stop();
    // Its session processes too: everything in the bastion's namespace.
    for (const pid of execFileSync("ip", ["netns", "pids", fleet.bastionNs], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
    const results = await running;
    const failed = results.filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) {
      if (r.ok) continue;
      expect(["CLOSED", "REFUSED", "UNREACHABLE", "CONNECT_TIMEOUT"]).toContain(r.error.code);
      expect(r.error.hop).toBe("bastion");
    }
    bastion = await startBastion();
    // After the bastion backoff the connection is re-established.
    const until = Date.now() + 40_000;
    let again = await probe.probe("web");
    while (!again.ok && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      again = await probe.probe("web");
    }
    expect(again.ok, again.ok ? "" : `${again.error.code} ${again.error.message}`).toBe(true);
  }, 90_000);
});
