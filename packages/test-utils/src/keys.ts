import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A key pair written by {@link sshKeygen}. */
export interface KeyFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

/** Generates a key pair with OpenSSH's ssh-keygen in `dir` (fails clearly when ssh-keygen is missing). */
export function sshKeygen(
  dir: string,
  name: string,
  opts: { type?: string; passphrase?: string } = {},
): KeyFiles {
  const privateKeyPath = join(dir, name);
  try {
    execFileSync(
      "ssh-keygen",
      ["-q", "-t", opts.type ?? "ed25519", "-N", opts.passphrase ?? "", "-C", name, "-f", privateKeyPath],
      { stdio: "pipe" },
    );
  } catch (err) {
    throw new Error(
      `ssh-keygen is required for these tests (install openssh-client): ${(err as Error).message}`,
    );
  }
  const publicKey = readFileSync(`${privateKeyPath}.pub`, "utf8").trim();
  return { privateKeyPath, publicKeyPath: `${privateKeyPath}.pub`, publicKey };
}

/** One known_hosts line for `name` (`host`, `[host]:port`, a pattern list or a hashed `|1|` name). */
export function knownHostsLine(name: string, publicKeyLine: string): string {
  const [type, b64] = publicKeyLine.trim().split(/\s+/);
  return `${name} ${type} ${b64}`;
}
