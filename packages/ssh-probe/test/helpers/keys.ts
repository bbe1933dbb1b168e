import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";

/** A temporary directory removed by the returned cleanup. */
export function makeTempDir(prefix = "ssh-probe-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface KeyFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** SSH wire-format public key. */
  publicBlob: Buffer;
}

/** Generates a key pair with OpenSSH's ssh-keygen (fails clearly when it is missing). */
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
      {
        stdio: "pipe",
      },
    );
  } catch (err) {
    throw new Error(
      `ssh-keygen is required for these tests (install openssh-client): ${(err as Error).message}`,
    );
  }
  const publicKey = readFileSync(`${privateKeyPath}.pub`, "utf8").trim();
  return {
    privateKeyPath,
    publicKeyPath: `${privateKeyPath}.pub`,
    publicKey,
    publicBlob: publicBlobOf(publicKey),
  };
}

/** Generates an ed25519 key pair in-process (fast) and writes the private key file. */
export function generateKeyFiles(dir: string, name: string): KeyFiles & { privatePem: string } {
  const pair = generateEd25519(name);
  const privateKeyPath = join(dir, name);
  writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
  writeFileSync(`${privateKeyPath}.pub`, `${pair.public}\n`);
  return {
    privateKeyPath,
    publicKeyPath: `${privateKeyPath}.pub`,
    publicKey: pair.public.trim(),
    publicBlob: publicBlobOf(pair.public),
    privatePem: pair.private,
  };
}

export function publicBlobOf(publicKeyLine: string): Buffer {
  const parsed = utils.parseKey(publicKeyLine);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key!.getPublicSSH();
}

/** One known_hosts line for `name` (`host` or `[host]:port`). */
export function knownHostsLine(name: string, publicKeyLine: string): string {
  const [type, b64] = publicKeyLine.trim().split(/\s+/);
  return `${name} ${type} ${b64}`;
}

/**
 * ssh2's generateKeyPairSync("ed25519") emits a key its own parser rejects about 0.4% of the time (measured:
 * 11 in 3000); retry until the pair parses.
 */
export function generateEd25519(comment = ""): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error("could not generate a parseable ed25519 key");
}
