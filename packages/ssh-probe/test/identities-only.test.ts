import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FleetAgent as Agent, startAgent } from "@uptime/test-fleet";
import {
  type KeyFiles,
  knownHostsLine,
  makeTempDir,
  type Sshd,
  sshKeygen,
  startSshd,
} from "@uptime/test-utils";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { createProbe } from "../src/index.js";

// Which keys are offered, and in which order, as OpenSSH's pubkey_prepare does: agent keys whose public key is a
// configured IdentityFile first (IdentitiesOnly keeps those and drops the agent's others), then key files not in
// the agent. A real ssh-agent and a real sshd that accepts one key only; OpenSSH's own client is the oracle.
let dir: string;
let cleanup: () => void;
let accepted: KeyFiles;
let otherA: KeyFiles;
let otherC: KeyFiles;
let sshd: Sshd;
let strictSshd: Sshd;
let agent: Agent;
let knownHosts: string;
let encryptedCopy: string;
let pubOnly: string;
const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("ssh-probe-idonly-"));
  accepted = sshKeygen(dir, "id_accepted");
  otherA = sshKeygen(dir, "id_other_a");
  otherC = sshKeygen(dir, "id_other_c");
  // The accepted key's file, encrypted and without a .pub: only its public half (in clear in OpenSSH's format)
  // can be read without the passphrase, so only the agent can sign with it.
  encryptedCopy = join(dir, "id_accepted_encrypted");
  copyFileSync(accepted.privateKeyPath, encryptedCopy);
  execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "secret", "-f", encryptedCopy], { stdio: "pipe" });
  // An IdentityFile that is only a .pub (the private key lives in the agent alone).
  pubOnly = join(dir, "id_pub_only");
  copyFileSync(accepted.publicKeyPath, `${pubOnly}.pub`);
  sshd = await startSshd([accepted.publicKey]);
  // Two failed keys and the connection is closed: the order of offers decides.
  strictSshd = await startSshd([accepted.publicKey], ["MaxAuthTries 2"]);
  // Agent order: A, C, then the accepted key.
  agent = await startAgent([otherA.privateKeyPath, otherC.privateKeyPath, accepted.privateKeyPath]);
  knownHosts = join(dir, "known_hosts");
  writeFileSync(
    knownHosts,
    [
      knownHostsLine(`[127.0.0.1]:${sshd.port}`, sshd.hostPublicKey),
      knownHostsLine(`[127.0.0.1]:${strictSshd.port}`, strictSshd.hostPublicKey),
    ].join("\n"),
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await sshd?.stop();
  await strictSshd?.stop();
  cleanup?.();
});

function configFor(server: Sshd, lines: string[]): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    file,
    [
      "Host t",
      "  HostName 127.0.0.1",
      `  Port ${server.port}`,
      `  User ${me}`,
      `  UserKnownHostsFile ${knownHosts}`,
      "  GlobalKnownHostsFile /dev/null",
      "  StrictHostKeyChecking yes",
      ...lines.map((l) => `  ${l}`),
    ].join("\n"),
  );
  return file;
}

/** OpenSSH's verdict for the same config and agent: true when `ssh t true` logs in. */
function opensshLogsIn(config: string): boolean {
  const r = spawnSync("ssh", ["-F", config, "-o", "BatchMode=yes", "t", "true"], {
    env: { ...process.env, SSH_AUTH_SOCK: agent.socketPath },
    encoding: "utf8",
    timeout: 20_000,
  });
  return r.status === 0;
}

async function probeWith(config: string, warnings: string[] = []) {
  const probe = createProbe({
    logger: { warn: (m) => warnings.push(m) },
    sshConfig: config,
    agent: agent.socketPath,
    identityFiles: [],
    pool: false,
    deadlineMs: 20_000,
    handshakeRetries: 0,
  });
  onTestFinished(() => probe.close());
  return probe.probe("t");
}

describe("IdentitiesOnly and the agent (real ssh-agent, real sshd)", () => {
  test("IdentitiesOnly yes keeps the agent key of the IdentityFile (its public half read from the encrypted file)", async () => {
    const config = configFor(sshd, ["IdentitiesOnly yes", `IdentityFile ${encryptedCopy}`]);
    const warnings: string[] = [];
    const r = await probeWith(config, warnings);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
    // Its passphrase is not needed, so not asked for: no warning (ssh says nothing either).
    expect(warnings).toEqual([]);
    expect(opensshLogsIn(config)).toBe(true);
  });

  test("IdentitiesOnly yes with an IdentityFile that is only a .pub: the agent signs", async () => {
    const config = configFor(sshd, ["IdentitiesOnly yes", `IdentityFile ${pubOnly}`]);
    const r = await probeWith(config);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
    expect(opensshLogsIn(config)).toBe(true);
  });

  test("IdentitiesOnly yes drops the agent's other keys: the accepted key in the agent is not offered", async () => {
    const config = configFor(sshd, ["IdentitiesOnly yes", `IdentityFile ${otherA.privateKeyPath}`]);
    const r = await probeWith(config);
    expect(r).toMatchObject({ ok: false, error: { code: "AUTH" } });
    expect(opensshLogsIn(config)).toBe(false);
  });

  test("key files not in the agent are still tried after the agent's matching keys", async () => {
    // The agent has A (rejected); the accepted key is offered from its file only.
    const onlyA = await startAgent([otherA.privateKeyPath]);
    onTestFinished(() => onlyA.stop());
    const config = configFor(sshd, [
      "IdentitiesOnly yes",
      `IdentityFile ${otherA.privateKeyPath}`,
      `IdentityFile ${accepted.privateKeyPath}`,
    ]);
    const probe = createProbe({ sshConfig: config, agent: onlyA.socketPath, identityFiles: [], pool: false });
    onTestFinished(() => probe.close());
    const r = await probe.probe("t");
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
  });

  test("several IdentityFiles in the agent are offered in the agent's order, not the files' (as ssh)", async () => {
    // One failed key and sshd closes the connection. The files name the accepted key first, the agent lists A
    // first: ssh offers A first (pubkey_prepare walks the agent's list) and fails; so must we.
    const oneTry = await startSshd([accepted.publicKey], ["MaxAuthTries 1"]);
    onTestFinished(() => oneTry.stop());
    writeFileSync(knownHosts, `\n${knownHostsLine(`[127.0.0.1]:${oneTry.port}`, oneTry.hostPublicKey)}\n`, {
      flag: "a",
    });
    const config = configFor(oneTry, [
      "IdentitiesOnly yes",
      `IdentityFile ${encryptedCopy}`,
      `IdentityFile ${otherA.privateKeyPath}.pub`,
    ]);
    const opensshOk = opensshLogsIn(config);
    expect(opensshOk).toBe(false);
    const r = await probeWith(config);
    expect(r.ok).toBe(opensshOk);
    // Only the accepted key named: one offer, accepted.
    const single = configFor(oneTry, ["IdentitiesOnly yes", `IdentityFile ${encryptedCopy}`]);
    expect(opensshLogsIn(single)).toBe(true);
    const ok = await probeWith(single);
    expect(ok.ok, ok.ok ? "" : `${ok.error.code} ${ok.error.message}`).toBe(true);
  });

  test("the IdentityFile's agent key is offered before the agent's others (sshd MaxAuthTries 2)", async () => {
    // Agent order A, C, accepted: offered in that order, A and C use up MaxAuthTries before the accepted key.
    const config = configFor(strictSshd, [`IdentityFile ${encryptedCopy}`]);
    const r = await probeWith(config);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}\n${strictSshd.log()}`).toBe(true);
    expect(opensshLogsIn(config)).toBe(true);
    // Without an IdentityFile naming it, the agent's order stands and sshd gives up before the accepted key.
    const plain = configFor(strictSshd, [`IdentityFile ${join(dir, "no-such-key")}`]);
    const bad = await probeWith(plain);
    expect(bad.ok).toBe(false);
    expect(opensshLogsIn(plain)).toBe(false);
  });
});
