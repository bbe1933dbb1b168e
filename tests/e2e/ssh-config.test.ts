import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { knownHostsLine, sshKeygen, startSshd } from "@uptime/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, endpoints, readFile, runApp, tempDir, writeFile } from "./harness.js";

describe("uptime-worker -F (a real OpenSSH sshd behind an ssh_config alias)", () => {
  it("probes the alias as ssh would; the sink keeps the inventory's name and carries where it resolved", async () => {
    const dir = await tempDir();
    const key = sshKeygen(dir, "fleet_key");
    const sshd = await startSshd([key.publicKey]);
    onTestFinished(() => sshd.stop());
    const knownHosts = join(dir, "fleet_known_hosts");
    await writeFile(knownHosts, `${knownHostsLine(`[${sshd.host}]:${sshd.port}`, sshd.hostPublicKey)}\n`);
    const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const config = join(dir, "fleet.config");
    await writeFile(
      config,
      `Host web1\n  HostName ${sshd.host}\n  Port ${sshd.port}\n  User ${me}\n  IdentityFile ${key.privateKeyPath}\n` +
        `  UserKnownHostsFile ${knownHosts}\n  CertificateFile ${dir}/fleet_key-cert.pub\n`,
    );
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, "web1\n");
    const out = join(dir, "out.ndjson");
    const ep = await endpoints();
    const sink = runApp(BIN.sink, [out, "--bind", ep.results, "--quiet", "--format", "ndjson"]);
    await sink.waitFor(/listening/);
    // Wrong -u/-p on purpose: ssh_config wins over them.
    const worker = runApp(
      BIN.worker,
      ["w1", "2", "-s", ep.tasks, "-r", ep.results, "-F", config, "--no-agent", "-u", "nobody", "-p", "1"],
      {
        HOME: dir,
      },
    );
    const sender = runApp(BIN.sender, [hosts, "--bind", ep.tasks]);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await sink.waitFor(/1\/1 results/);
    const line = JSON.parse((await readFile(out, "utf8")).trim().split("\n")[0] ?? "{}");
    // The library's warnings reach the operator, once per directive.
    expect(worker.stderr().match(/warning: ssh_config: certificatefile is not supported/gi)).toHaveLength(1);
    expect(line, JSON.stringify(line)).toMatchObject({
      ok: true,
      target: "web1",
      resolved: { hostname: sshd.host, port: sshd.port, user: me },
    });
  }, 60_000);
});
