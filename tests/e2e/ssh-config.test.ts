import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { knownHostsLine, sshKeygen, startSshd } from "@uptime/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, endpoints, readFile, runApp, startFleet, tempDir, writeFile } from "./harness.js";

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
    expect(worker.stderr().match(/warning: ssh_config: CertificateFile is not supported/g)).toHaveLength(1);
    expect(line, JSON.stringify(line)).toMatchObject({
      ok: true,
      target: "web1",
      resolved: { hostname: sshd.host, port: sshd.port, user: me },
    });
  }, 60_000);

  it("-J through a real OpenSSH bastion: results name the chain; with the bastion gone, each host fails naming the hop", async () => {
    const fleet = await startFleet(3);
    const dir = await tempDir();
    const clientPub = execFileSync("ssh-keygen", ["-y", "-f", fleet.identity], { encoding: "utf8" }).trim();
    const bastion = await startSshd([clientPub]);
    onTestFinished(() => bastion.stop());
    const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const hop = `${me}@${bastion.host}:${bastion.port}`;
    // One known_hosts for the targets and the bastion: every hop is checked like a target.
    const knownHosts = join(dir, "known_hosts");
    await writeFile(
      knownHosts,
      `${await readFile(fleet.knownHosts, "utf8")}${knownHostsLine(`[${bastion.host}]:${bastion.port}`, bastion.hostPublicKey)}\n`,
    );
    const out = join(dir, "out.ndjson");
    const ep = await endpoints();
    const sink = runApp(BIN.sink, [out, "--bind", ep.results, "--quiet", "--format", "ndjson"]);
    await sink.waitFor(/listening/);
    const workerArgs = [
      "4",
      "-s",
      ep.tasks,
      "-r",
      ep.results,
      "--identity",
      fleet.identity,
      "--known-hosts",
      knownHosts,
      "--no-agent",
      "--no-ssh-config",
      "-J",
      hop,
      "--deadline",
      "8s",
    ];
    const w1 = runApp(BIN.worker, ["w1", ...workerArgs]);
    const through = runApp(BIN.sender, [fleet.inventory, "--bind", ep.tasks, "--job", "through"]);
    expect(await through.exited, through.stderr()).toBe(0);
    type Line = {
      job: string;
      ok: boolean;
      target: string;
      resolved?: { jump?: string[] };
      error?: { code: string; hop?: string };
    };
    const lines = async () =>
      (await readFile(out, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Line);
    const first = (await lines()).filter((l) => l.job === "through");
    expect(first.map((l) => [l.ok, l.resolved?.jump])).toEqual(fleet.targets.map(() => [true, [hop]]));
    // The bastion goes away (a worker that already holds a connection to it keeps using it, as ssh's
    // ControlMaster would: sshd's session outlives its listener; so a new worker): the same hosts now fail,
    // each naming the hop that failed, so they did go through it.
    w1.child.kill("SIGTERM");
    await w1.exited;
    await bastion.stop();
    runApp(BIN.worker, ["w2", ...workerArgs]);
    const gone = runApp(BIN.sender, [fleet.inventory, "--bind", ep.tasks, "--job", "gone"]);
    expect(await gone.exited).toBe(0);
    const second = (await lines()).filter((l) => l.job === "gone");
    expect(second).toHaveLength(3);
    for (const l of second) {
      expect(l.ok, JSON.stringify(l)).toBe(false);
      expect(l.error?.hop, JSON.stringify(l)).toBe(hop);
    }
  }, 90_000);
});
