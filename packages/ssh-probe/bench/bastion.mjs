#!/usr/bin/env node
// ProxyJump benchmark: the same simulated fleet probed directly and through one real OpenSSH sshd bastion, in
// the same run (pnpm bench:bastion). The fleet and the bastion run in other processes: CPU figures are the
// client's alone.
//
//   node bench/bastion.mjs [--hosts 2000] [--concurrency 100] [--rounds 1]
import { execFileSync, spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../../../scripts/pipeline.mjs";
import { createProbe } from "../dist/index.js";
import { runAll, startFleet } from "./fleet.mjs";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "100" },
    rounds: { type: "string", default: "1" },
  },
});
const hosts = Number(values.hosts);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), "sshcfg-bench-bastion-"));
const children = [];

async function startBastion(identity) {
  const hostKey = join(dir, "bastion_host_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const ak = join(dir, "bastion_authorized_keys");
  writeFileSync(ak, execFileSync("ssh-keygen", ["-y", "-f", identity], { encoding: "utf8" }), {
    mode: 0o600,
  });
  const port = await freePort();
  const config = join(dir, "bastion_sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${ak}`,
      `PidFile ${join(dir, "bastion.pid")}`,
      "StrictModes no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "AllowTcpForwarding yes",
      "MaxStartups 100:30:200",
      "LogLevel ERROR",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: "inherit" });
  children.push(child);
  while (!existsSync(join(dir, "bastion.pid"))) await new Promise((r) => setTimeout(r, 25));
  return { port, publicKey: readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ") };
}

async function measure(phase, targets, options) {
  const probe = createProbe(options);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { ok, failed, firstError } = await runAll(probe, targets);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const bastionConnections = probe.stats().open;
  await probe.close();
  return {
    phase,
    hosts: targets.length,
    ok,
    failed,
    "hosts/s": Math.round((targets.length / wall) * 1000),
    "cpu ms/host": Number(((cpu.user + cpu.system) / 1000 / targets.length).toFixed(3)),
    "open at end": bastionConnections,
    ...(firstError ? { firstError } : {}),
  };
}

let fleet;
try {
  fleet = await startFleet(hosts);
  const { ready, targets } = fleet;
  const bastion = await startBastion(ready.identity);
  const knownHosts = join(dir, "known_hosts");
  copyFileSync(ready.knownHosts, knownHosts);
  appendFileSync(knownHosts, `\n[127.0.0.1]:${bastion.port} ${bastion.publicKey}\n`);
  const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
  const base = {
    agent: false,
    identityFiles: [ready.identity],
    knownHosts,
    concurrency,
    pool: false,
    sshConfig: false,
    deadlineMs: 60_000,
  };
  const rows = [];
  for (let i = 0; i < rounds; i++) {
    rows.push(await measure("direct", targets, base));
    rows.push(await measure("via bastion", targets, { ...base, jump: [`${me}@127.0.0.1:${bastion.port}`] }));
  }
  console.table(rows);
  const avg = (phase, key) => {
    const r = rows.filter((x) => x.phase === phase);
    return r.reduce((a, x) => a + x[key], 0) / r.length;
  };
  console.log(
    `bastion/direct: throughput ${((100 * avg("via bastion", "hosts/s")) / avg("direct", "hosts/s")).toFixed(0)}%, ` +
      `client CPU per host ${(avg("via bastion", "cpu ms/host") / avg("direct", "cpu ms/host")).toFixed(2)}x ` +
      `(concurrency ${concurrency}, a fresh target connection per probe)`,
  );
} finally {
  await fleet?.stop();
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
