import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
import { createProbe, resolveTarget } from "../src/index.js";
import type { ProbeOptions } from "../src/types.js";

// Which known_hosts files are read and which one is written, as OpenSSH does when ssh_config names none:
// ~/.ssh/known_hosts and ~/.ssh/known_hosts2, then /etc/ssh/ssh_known_hosts and /etc/ssh/ssh_known_hosts2; all that
// exist are read, accept-new appends to the first user file only. HOME points at a temp dir and the global files
// at temp files (the `globalKnownHosts` option or GlobalKnownHostsFile): nothing real is read or written.
let dir: string;
let cleanup: () => void;
let home: string;
let savedHome: string | undefined;
let client: KeyFiles;
let sshd: Sshd;
let line: string;

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("ssh-probe-khfiles-"));
  home = join(dir, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true });
  savedHome = process.env.HOME;
  process.env.HOME = home;
  client = sshKeygen(dir, "id_ed25519");
  sshd = await startSshd([client.publicKey]);
  line = knownHostsLine(`[127.0.0.1]:${sshd.port}`, sshd.hostPublicKey);
}, 30_000);

afterAll(async () => {
  if (savedHome === undefined) delete process.env.HOME;
  else process.env.HOME = savedHome;
  await sshd?.stop();
  cleanup?.();
});

function probeWith(opts: ProbeOptions) {
  const probe = createProbe({
    agent: false,
    identityFiles: [client.privateKeyPath],
    pool: false,
    deadlineMs: 15_000,
    ...opts,
  });
  onTestFinished(() => probe.close());
  return probe;
}

const target = () => `127.0.0.1:${sshd.port}`;
const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");

describe("default known_hosts files (real OpenSSH sshd, HOME in a temp dir)", () => {
  test("the resolution reports OpenSSH's defaults, and the library's options below ssh_config", () => {
    expect(resolveTarget("anything", { sshConfig: false })).toMatchObject({
      userKnownHostsFiles: [join(home, ".ssh", "known_hosts"), join(home, ".ssh", "known_hosts2")],
      globalKnownHostsFiles: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
    });
    expect(
      resolveTarget("anything", { sshConfig: false, knownHosts: "/k/user", globalKnownHosts: [] }),
    ).toMatchObject({ userKnownHostsFiles: ["/k/user"], globalKnownHostsFiles: [] });
  });

  test("a key only in ~/.ssh/known_hosts2 is found (strict)", async () => {
    writeFileSync(join(home, ".ssh", "known_hosts2"), `${line}\n`);
    onTestFinished(() => writeFileSync(join(home, ".ssh", "known_hosts2"), ""));
    const r = await probeWith({ sshConfig: false, globalKnownHosts: [] }).probe(target());
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
  });

  test("a key only in a global file is found (strict); without it the host is unknown", async () => {
    const global = join(dir, "ssh_known_hosts");
    writeFileSync(global, `${line}\n`);
    const r = await probeWith({ sshConfig: false, globalKnownHosts: [join(dir, "absent"), global] }).probe(
      target(),
    );
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
    const without = await probeWith({ sshConfig: false, globalKnownHosts: [] }).probe(target());
    expect(without).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN" } });
    expect(without.ok ? "" : without.error.message).toContain(join(home, ".ssh", "known_hosts2"));
  });

  test("accept-new appends to the first user file only, as OpenSSH's ssh does", async () => {
    const global = join(dir, "global_untouched");
    writeFileSync(global, "# global\n");
    const probe = probeWith({ sshConfig: false, globalKnownHosts: [global], hostKeyPolicy: "accept-new" });
    const r = await probe.probe(target());
    expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
    await probe.close();
    expect(read(join(home, ".ssh", "known_hosts"))).toBe(`${line}\n`);
    expect(read(join(home, ".ssh", "known_hosts2"))).toBe("");
    expect(read(global)).toBe("# global\n");

    // The oracle: ssh with two user files and a global one writes the first user file only.
    const u1 = join(dir, "ssh_u1");
    const u2 = join(dir, "ssh_u2");
    const r2 = spawnSync(
      "ssh",
      [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        `UserKnownHostsFile=${u1} ${u2}`,
        "-o",
        `GlobalKnownHostsFile=${global}`,
        "-i",
        client.privateKeyPath,
        "-p",
        String(sshd.port),
        "127.0.0.1",
        "true",
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(read(u1).trim().split(/\s+/).slice(1)).toEqual(line.split(/\s+/).slice(1));
    expect(read(u2)).toBe("");
    expect(read(global)).toBe("# global\n");
  });

  test("UserKnownHostsFile none: the global files are still read, and accept-new writes nothing", async () => {
    const global = join(dir, "global_for_none");
    writeFileSync(global, "");
    const config = join(dir, "config_none");
    writeFileSync(
      config,
      `Host none-user\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  UserKnownHostsFile none\n  GlobalKnownHostsFile ${global}\n`,
    );
    const probe = probeWith({ sshConfig: config, hostKeyPolicy: "accept-new" });
    const r = await probe.probe("none-user");
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN" } });
    await probe.close();
    expect(read(global)).toBe("");
    writeFileSync(global, `${line}\n`);
    const again = await probeWith({ sshConfig: config }).probe("none-user");
    expect(again.ok, again.ok ? "" : `${again.error.code} ${again.error.message}`).toBe(true);
  });
});
