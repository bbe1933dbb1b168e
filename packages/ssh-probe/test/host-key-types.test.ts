import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

// A fleet whose known_hosts was collected when its hosts had only ECDSA keys, while sshd now also offers
// ed25519 (its first choice) and RSA: OpenSSH asks for the known type first and connects.
let sshd: Sshd;
let dir: string;
let cleanup: () => void;
let client: KeyFiles;
let ecdsaHost: KeyFiles;
let rsaHost: KeyFiles;

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("ssh-probe-keytypes-"));
  client = sshKeygen(dir, "id_ed25519");
  ecdsaHost = sshKeygen(dir, "ssh_host_ecdsa_key", { type: "ecdsa" });
  rsaHost = sshKeygen(dir, "ssh_host_rsa_key", { type: "rsa" });
  // The helper's ed25519 host key comes first; the other two are added.
  sshd = await startSshd(
    [client.publicKey],
    [`HostKey ${ecdsaHost.privateKeyPath}`, `HostKey ${rsaHost.privateKeyPath}`],
  );
});

afterAll(async () => {
  await sshd?.stop();
  cleanup?.();
});

function knownHostsWith(name: string, keyLine: string): string {
  const path = join(dir, `known_hosts_${name}`);
  writeFileSync(path, `${knownHostsLine(`[127.0.0.1]:${sshd.port}`, keyLine)}\n`);
  return path;
}

function probeWith(knownHosts: string, hostKeyPolicy: "strict" | "accept-new" = "strict") {
  const probe = createProbe({
    agent: false,
    identityFiles: [client.privateKeyPath],
    knownHosts,
    hostKeyPolicy,
    deadlineMs: 10_000,
  });
  onTestFinished(() => probe.close());
  return probe;
}

describe("host keys of several types (real OpenSSH sshd offering ed25519, ECDSA and RSA)", () => {
  test("known_hosts with only the ECDSA key connects under strict, as ssh -o StrictHostKeyChecking=yes does", async () => {
    const knownHosts = knownHostsWith("ecdsa", ecdsaHost.publicKey);
    const r = await probeWith(knownHosts).probe(`127.0.0.1:${sshd.port}`);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}\n${sshd.log()}`).toBe(true);
    // The oracle: OpenSSH's client with the same known_hosts.
    const out = execFileSync(
      "ssh",
      [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=none",
        "-i",
        client.privateKeyPath,
        "-p",
        String(sshd.port),
        "127.0.0.1",
        "echo ok",
      ],
      { stdio: "pipe", encoding: "utf8", timeout: 10_000 },
    );
    expect(out.trim()).toBe("ok");
  });

  test("known_hosts with only the RSA key connects under strict (rsa-sha2 asked for first)", async () => {
    const r = await probeWith(knownHostsWith("rsa", rsaHost.publicKey)).probe(`127.0.0.1:${sshd.port}`);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
  });

  test("a different ECDSA key is a changed key: HOSTKEY_MISMATCH", async () => {
    const other = sshKeygen(dir, "other_ecdsa", { type: "ecdsa" });
    const r = await probeWith(knownHostsWith("other", other.publicKey)).probe(`127.0.0.1:${sshd.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_MISMATCH" } });
  });

  test("accept-new with only the ECDSA key known adds nothing and connects", async () => {
    const knownHosts = knownHostsWith("accept", ecdsaHost.publicKey);
    const before = readFileSync(knownHosts, "utf8");
    const probe = probeWith(knownHosts, "accept-new");
    const r = await probe.probe(`127.0.0.1:${sshd.port}`);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
    await probe.close();
    expect(readFileSync(knownHosts, "utf8")).toBe(before);
  });
});
