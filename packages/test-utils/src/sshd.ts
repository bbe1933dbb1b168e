import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "./free-port.mjs";
import { type KeyFiles, sshKeygen } from "./keys.js";
import { makeTempDir } from "./temp.js";

/** The path of OpenSSH sshd; throws (the test fails, never skips) when it is not installed. */
export function findSshd(): string {
  for (const path of ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd"])
    if (existsSync(path)) return path;
  throw new Error(
    "OpenSSH sshd not found (install openssh-server): these tests need a real sshd and do not skip",
  );
}

export interface Sshd {
  host: string;
  port: number;
  dir: string;
  /** Host public key line `ssh-ed25519 AAAA...`. */
  hostPublicKey: string;
  hostKeyPath: string;
  /** Output sshd wrote (-e sends its log to stderr). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real OpenSSH sshd on a loopback port with a temporary config, host key and authorized_keys; logs
 * in as the current user. Resolves once sshd sends its banner.
 */
export async function startSshd(
  authorizedKeys: string[],
  extraConfig: string[] = [],
  hostKeyType = "ed25519",
): Promise<Sshd> {
  const sshdPath = findSshd();
  const { dir, cleanup } = makeTempDir("uptime-sshd-");
  const hostKey: KeyFiles = sshKeygen(dir, `ssh_host_${hostKeyType}_key`, { type: hostKeyType });
  const authorizedKeysPath = join(dir, "authorized_keys");
  writeFileSync(authorizedKeysPath, `${authorizedKeys.join("\n")}\n`, { mode: 0o600 });
  // sshd refuses to start without its privilege separation directory (normally made by the service manager).
  if (process.getuid?.() === 0 && !existsSync("/run/sshd"))
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKey.privateKeyPath}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    "StrictModes no",
    "UsePAM no",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "MaxStartups 100:30:200",
    "LogLevel ERROR",
    ...extraConfig,
  ];
  const configPath = join(dir, "sshd_config");
  writeFileSync(configPath, `${config.join("\n")}\n`);
  let log = "";
  const child: ChildProcess = spawn(sshdPath, ["-D", "-e", "-f", configPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    cleanup();
  };
  const until = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanup();
      throw new Error(`sshd exited with ${child.exitCode}: ${log}`);
    }
    if (await bannerSeen(port)) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`sshd did not answer on 127.0.0.1:${port} within 5 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    host: "127.0.0.1",
    port,
    dir,
    hostPublicKey: hostKey.publicKey.split(/\s+/).slice(0, 2).join(" "),
    hostKeyPath: hostKey.privateKeyPath,
    log: () => log,
    stop,
  };
}

function bannerSeen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("data", (d) => done(d.toString().startsWith("SSH-")));
    sock.once("error", () => done(false));
  });
}
