import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startAgent } from "@uptime/test-fleet";
import { freePort, knownHostsLine, sshKeygen, startSshd } from "@uptime/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, endpoints, readFile, runApp, tempDir, writeFile } from "./harness.js";

describe("the pipeline against a real OpenSSH sshd", () => {
  it("probes with the operator's ssh-agent and hashed known_hosts, and names the reason for a host it cannot reach", async () => {
    const dir = await tempDir();
    const key = sshKeygen(dir, "id_ed25519");
    const sshd = await startSshd([key.publicKey]);
    onTestFinished(() => sshd.stop());
    const agent = await startAgent([key.privateKeyPath]);
    onTestFinished(() => agent.stop());
    const knownHosts = join(dir, "known_hosts");
    await writeFile(knownHosts, `${knownHostsLine(`[${sshd.host}]:${sshd.port}`, sshd.hostPublicKey)}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", knownHosts], { stdio: "pipe" });
    expect(await readFile(knownHosts, "utf8")).toMatch(/^\|1\|/);

    const closedPort = await freePort();
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, `${sshd.host}:${sshd.port}\n127.0.0.1:${closedPort}\n`);
    const out = join(dir, "out.txt");
    const ep = await endpoints();
    const sink = runApp(BIN.sink, [out, "--bind", ep.results, "--quiet"]);
    await sink.waitFor(/listening/);
    // No --identity: the key comes from the agent, as for an operator.
    runApp(BIN.worker, ["ops", "4", "-s", ep.tasks, "-r", ep.results, "--known-hosts", knownHosts], {
      SSH_AUTH_SOCK: agent.socketPath,
      HOME: dir,
    });
    const sender = runApp(BIN.sender, [hosts, "--bind", ep.tasks]);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await sink.waitFor(/2\/2 results/);
    const lines = (await readFile(out, "utf8")).trimEnd().split("\n").sort();
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes(`host: ${sshd.host}:${sshd.port},`))).toMatch(
      /^worker_id: ops_\d+, host: 127\.0\.0\.1:\d+, result: (\d+ days?, )?(\d+:\d\d|\d+ min)$/,
    );
    expect(lines.find((l) => l.includes(`:${closedPort},`))).toMatch(/, error: REFUSED /);
  }, 60_000);
});
