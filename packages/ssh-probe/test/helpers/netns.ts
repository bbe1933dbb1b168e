import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findSshd } from "@uptime/test-utils";

function ip(...args: string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    throw new Error(
      `ip ${args.join(" ")} failed (these tests need root and iproute2, and do not skip): ${(err as Error).message}`,
    );
  }
}

/**
 * Two network namespaces: the bastion's (`sshcfg-b…`, linked to this namespace) and the targets'
 * (`sshcfg-t…`, linked only to the bastion's, no forwarding): targets are reachable only through the bastion.
 */
export interface Fleet {
  bastionNs: string;
  targetNs: string;
  /** The bastion's address as this process sees it. */
  bastionOuter: string;
  /** The bastion's address on the targets' link. */
  bastionInner: string;
  target: string;
  remove(): void;
}

export function createFleetNamespaces(): Fleet {
  const id = `${process.pid % 1000}${Math.floor(Math.random() * 100)}`.slice(-4);
  const k = 1 + (Number(id) % 250);
  const b = `sshcfg-b${id}`;
  const t = `sshcfg-t${id}`;
  const fleet: Fleet = {
    bastionNs: b,
    targetNs: t,
    bastionOuter: `10.201.${k}.2`,
    bastionInner: `10.201.${k}.5`,
    target: `10.201.${k}.6`,
    remove() {
      for (const ns of [b, t]) {
        for (const pid of execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: "pipe" })
          .split("\n")
          .filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {}
        }
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "pipe" });
        } catch {}
      }
      try {
        execFileSync("ip", ["link", "del", `sshcfg-r${id}`], { stdio: "pipe" });
      } catch {}
    },
  };
  try {
    ip("netns", "add", b);
    ip("netns", "add", t);
    ip("link", "add", `sshcfg-r${id}`, "type", "veth", "peer", "name", `sshcfg-o${id}`);
    ip("link", "set", `sshcfg-o${id}`, "netns", b);
    ip("addr", "add", `10.201.${k}.1/30`, "dev", `sshcfg-r${id}`);
    ip("link", "set", `sshcfg-r${id}`, "up");
    ip("-n", b, "addr", "add", `10.201.${k}.2/30`, "dev", `sshcfg-o${id}`);
    ip("-n", b, "link", "set", `sshcfg-o${id}`, "up");
    ip("-n", b, "link", "set", "lo", "up");
    ip("-n", b, "link", "add", `sshcfg-i${id}`, "type", "veth", "peer", "name", `sshcfg-x${id}`);
    ip("-n", b, "link", "set", `sshcfg-x${id}`, "netns", t);
    ip("-n", b, "addr", "add", `10.201.${k}.5/30`, "dev", `sshcfg-i${id}`);
    ip("-n", b, "link", "set", `sshcfg-i${id}`, "up");
    ip("-n", t, "addr", "add", `10.201.${k}.6/30`, "dev", `sshcfg-x${id}`);
    ip("-n", t, "link", "set", `sshcfg-x${id}`, "up");
    ip("-n", t, "link", "set", "lo", "up");
  } catch (err) {
    fleet.remove();
    throw err;
  }
  return fleet;
}

export interface NsSshd {
  stop(): Promise<void>;
  log(): string;
}

/** A real sshd inside namespace `ns`, listening on `addresses` port 22 with the given host key. */
export async function startNsSshd(
  ns: string,
  dir: string,
  name: string,
  addresses: string[],
  hostKeyPath: string,
  authorizedKeys: string[],
): Promise<NsSshd> {
  const sshd = findSshd();
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { recursive: true });
  const ak = join(dir, `${name}_authorized_keys`);
  writeFileSync(ak, `${authorizedKeys.join("\n")}\n`, { mode: 0o600 });
  const pid = join(dir, `${name}.pid`);
  const config = join(dir, `${name}_sshd_config`);
  writeFileSync(
    config,
    [
      ...addresses.map((a) => `ListenAddress ${a}:22`),
      `HostKey ${hostKeyPath}`,
      `AuthorizedKeysFile ${ak}`,
      `PidFile ${pid}`,
      "StrictModes no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AllowTcpForwarding yes",
      "MaxStartups 100:30:200",
      "LogLevel ERROR",
      // Keep bash from sourcing ~/.bashrc for `bash -c uptime` (see handshake-pressure.test.ts).
      "SetEnv SHLVL=1",
    ].join("\n"),
  );
  let log = "";
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, sshd, "-D", "-e", "-f", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  const until = Date.now() + 10_000;
  while (!existsSync(pid)) {
    if (child.exitCode !== null) throw new Error(`sshd in ${ns} exited: ${log}`);
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`sshd in ${ns} did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
