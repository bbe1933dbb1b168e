import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAgent } from "@uptime/test-fleet";
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
import type { ProbeOptions } from "../src/types.js";

let sshd: Sshd;
let dir: string;
let cleanup: () => void;
let ed25519: KeyFiles;
let rsa: KeyFiles;
let ecdsa: KeyFiles;
let encrypted: KeyFiles;
let stranger: KeyFiles;
let knownHosts: string;
let hashedKnownHosts: string;
let target: string;

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir());
  ed25519 = sshKeygen(dir, "id_ed25519");
  rsa = sshKeygen(dir, "id_rsa", { type: "rsa" });
  ecdsa = sshKeygen(dir, "id_ecdsa", { type: "ecdsa" });
  encrypted = sshKeygen(dir, "id_encrypted", { passphrase: "correct horse" });
  stranger = sshKeygen(dir, "id_stranger");
  sshd = await startSshd([ed25519.publicKey, rsa.publicKey, ecdsa.publicKey, encrypted.publicKey]);
  target = `127.0.0.1:${sshd.port}`;
  knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `${knownHostsLine(`[127.0.0.1]:${sshd.port}`, sshd.hostPublicKey)}\n`);
  hashedKnownHosts = join(dir, "known_hosts_hashed");
  writeFileSync(hashedKnownHosts, readFileSync(knownHosts));
  execFileSync("ssh-keygen", ["-H", "-f", hashedKnownHosts], { stdio: "pipe" });
});

afterAll(async () => {
  await sshd?.stop();
  cleanup?.();
});

function probeWith(opts: ProbeOptions) {
  const probe = createProbe({ agent: false, knownHosts, deadlineMs: 10_000, ...opts });
  onTestFinished(() => probe.close());
  return probe;
}

describe("against a real OpenSSH sshd", () => {
  test.each([
    ["ed25519", () => ed25519],
    ["rsa (rsa-sha2 signatures)", () => rsa],
    ["ecdsa", () => ecdsa],
  ])("key file auth with %s runs the real uptime", async (_name, key) => {
    const probe = probeWith({ identityFiles: [key().privateKeyPath] });
    const r = await probe.probe(target);
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}\n${sshd.log()}`).toBe(true);
    if (!r.ok) return;
    expect(r.uptime.seconds).toBeGreaterThan(0);
    expect(r.output).toContain("load average");
    const again = await probe.probe(target);
    expect(again).toMatchObject({ ok: true, reused: true });
  });

  test.each(["rsa", "ecdsa"])(
    "verifies a %s host key (the server signs the key exchange with it)",
    async (type) => {
      const other = await startSshd([ed25519.publicKey], [], type);
      onTestFinished(() => other.stop());
      const kh = join(dir, `known_hosts_${type}`);
      writeFileSync(kh, `${knownHostsLine(`[127.0.0.1]:${other.port}`, other.hostPublicKey)}\n`);
      const probe = probeWith({ identityFiles: [ed25519.privateKeyPath], knownHosts: kh, pool: false });
      for (let i = 0; i < 2; i++) {
        const r = await probe.probe(`127.0.0.1:${other.port}`);
        expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
      }
      // And a wrong key of that type is still refused.
      writeFileSync(
        kh,
        `${knownHostsLine(`[127.0.0.1]:${other.port}`, sshKeygen(dir, `wrong_${type}`, { type }).publicKey)}\n`,
      );
      const bad = await probeWith({ identityFiles: [ed25519.privateKeyPath], knownHosts: kh }).probe(
        `127.0.0.1:${other.port}`,
      );
      expect(bad).toMatchObject({ ok: false, error: { code: "HOSTKEY_MISMATCH" } });
    },
  );

  test("known_hosts hashed by ssh-keygen -H is accepted; the file really is hashed", async () => {
    expect(readFileSync(hashedKnownHosts, "utf8")).toMatch(/^\|1\|/);
    const r = await probeWith({
      identityFiles: [ed25519.privateKeyPath],
      knownHosts: hashedKnownHosts,
    }).probe(target);
    expect(r.ok).toBe(true);
  });

  test("strict policy refuses sshd when known_hosts lacks it", async () => {
    const empty = join(dir, "known_hosts_empty");
    writeFileSync(empty, "");
    const r = await probeWith({ identityFiles: [ed25519.privateKeyPath], knownHosts: empty }).probe(target);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN" } });
  });

  test("a key sshd does not know gives AUTH", async () => {
    const r = await probeWith({ identityFiles: [stranger.privateKeyPath] }).probe(target);
    expect(r).toMatchObject({ ok: false, error: { code: "AUTH" } });
  });

  test("encrypted key: works with the passphrase, KEY without or with a wrong one", async () => {
    const ok = await probeWith({
      identityFiles: [encrypted.privateKeyPath],
      passphrase: "correct horse",
    }).probe(target);
    expect(ok.ok).toBe(true);
    const none = await probeWith({ identityFiles: [encrypted.privateKeyPath] }).probe(target);
    expect(none).toMatchObject({ ok: false, error: { code: "KEY" } });
    expect(none.ok || none.error.message).toContain("passphrase");
    const wrong = await probeWith({ identityFiles: [encrypted.privateKeyPath], passphrase: "nope" }).probe(
      target,
    );
    expect(wrong).toMatchObject({ ok: false, error: { code: "KEY" } });
  });

  test("a real ssh-agent: explicit socket, and SSH_AUTH_SOCK by default", async () => {
    const agent = await startAgent([ed25519.privateKeyPath]);
    onTestFinished(() => agent.stop());
    const r = await probeWith({ agent: agent.socketPath, identityFiles: [] }).probe(target);
    expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = agent.socketPath;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    });
    const probe = createProbe({ identityFiles: [], knownHosts });
    onTestFinished(() => probe.close());
    expect((await probe.probe(target)).ok).toBe(true);
    // An agent without the right key, and no files: AUTH.
    const strangerAgent = await startAgent([stranger.privateKeyPath]);
    onTestFinished(() => strangerAgent.stop());
    const denied = await probeWith({ agent: strangerAgent.socketPath, identityFiles: [] }).probe(target);
    expect(denied).toMatchObject({ ok: false, error: { code: "AUTH" } });
  });

  test("OpenSSH defaults: ~/.ssh/id_* keys, ~/.ssh/known_hosts, current user, port from the target", async () => {
    const home = makeTempDir("ssh-probe-home-");
    onTestFinished(home.cleanup);
    mkdirSync(join(home.dir, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home.dir, ".ssh", "id_ecdsa"), readFileSync(ecdsa.privateKeyPath), { mode: 0o600 });
    writeFileSync(join(home.dir, ".ssh", "known_hosts"), readFileSync(knownHosts));
    const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
    process.env.HOME = home.dir;
    delete process.env.SSH_AUTH_SOCK;
    onTestFinished(() => {
      process.env.HOME = saved.HOME;
      if (saved.SSH_AUTH_SOCK !== undefined) process.env.SSH_AUTH_SOCK = saved.SSH_AUTH_SOCK;
    });
    const probe = createProbe();
    onTestFinished(() => probe.close());
    const r = await probe.probe(target);
    expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
    const { port } = { port: sshd.port };
    const viaObject = await probe.probe({ host: "127.0.0.1", port });
    expect(viaObject).toMatchObject({ ok: true, target });
  });

  test("a failing command gives EXIT_STATUS with sshd's exit status and first stderr line", async () => {
    const probe = probeWith({ identityFiles: [ed25519.privateKeyPath] });
    const r = await probe.probe(target, { command: "echo first >&2; echo second >&2; exit 3" });
    expect(r).toMatchObject({
      ok: false,
      error: { code: "EXIT_STATUS", exitStatus: 3, message: "exit status 3: first" },
    });
    const c = await probe.probe(target, { command: "echo hello" });
    expect(c).toMatchObject({ ok: true, output: "hello\n", reused: true });
  });
});
