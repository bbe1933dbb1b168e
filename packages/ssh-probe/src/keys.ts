import { createPrivateKey, sign as cryptoSign, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import ssh2, { type ParsedKey } from "ssh2";
import { loadPublicKeyBlob } from "./identity-selection.js";
import type { ProbeLogger } from "./types.js";

/** A private key parsed once, with the file it came from. */
export interface Identity {
  path: string;
  key: ParsedKey;
}

/** What {@link loadIdentities} found: usable keys, and why others were not usable. */
export interface IdentitySet {
  identities: Identity[];
  problems: string[];
}

/** OpenSSH's default identity files, in the order ssh tries them. */
export function defaultIdentityFiles(home = homedir()): string[] {
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((name) => join(home, ".ssh", name));
}

function hashFor(type: string): string | null {
  switch (type) {
    case "ssh-ed25519":
      return null;
    case "ecdsa-sha2-nistp256":
      return "sha256";
    case "ecdsa-sha2-nistp384":
      return "sha384";
    case "ecdsa-sha2-nistp521":
      return "sha512";
    default:
      return "sha1";
  }
}

/**
 * ssh2 signs through the PEM string on every call, which re-parses the key each time (most of its CPU per
 * connection). Swap in a signer over a KeyObject built once; ssh2 still converts the signature format.
 */
function withCachedSigner(key: ParsedKey): ParsedKey {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key.getPrivatePEM());
  } catch {
    return key;
  }
  const defaultHash = hashFor(key.type);
  const signer = (data: Buffer | string, algo?: string): Buffer => {
    try {
      const hash = typeof algo === "string" && algo !== "" ? algo : defaultHash;
      return cryptoSign(key.type === "ssh-ed25519" ? null : hash, Buffer.from(data), keyObject);
    } catch (err) {
      // ssh2 expects an Error returned, not thrown.
      return err as Buffer;
    }
  };
  (key as { sign: typeof signer }).sign = signer;
  return key;
}

/**
 * Reads and parses identity files once. Explicit files that cannot be used are problems (the probe then
 * fails with KEY when nothing else authenticates); missing default files are skipped silently, as ssh does.
 */
export function loadIdentities(
  files: string[] | undefined,
  passphrase: string | undefined,
  logger: ProbeLogger | undefined,
): IdentitySet {
  const explicit = files !== undefined;
  const paths = files ?? defaultIdentityFiles().filter((p) => existsSync(p));
  const set: IdentitySet = { identities: [], problems: [] };
  // Files whose private key cannot be used here but whose public key can be read (a `.pub` only, an encrypted
  // key without its passphrase): an agent holding the key still signs for them, as with ssh, so no warning.
  const agentOnly = new Set<string>();
  const problem = (path: string, message: string) => {
    set.problems.push(message);
    if (loadPublicKeyBlob(path)) agentOnly.add(message);
  };
  for (const path of paths) {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      problem(path, `cannot read identity file ${path}: ${(err as Error).message}`);
      continue;
    }
    const parsed = ssh2.utils.parseKey(data, passphrase);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || key === undefined) {
      const why = key instanceof Error ? key.message : "no key found";
      const hint = /encrypt|passphrase|decrypt/i.test(why) ? " (set `passphrase`)" : "";
      problem(path, `cannot use identity file ${path}: ${why}${hint}`);
      continue;
    }
    if (!key.isPrivateKey()) {
      set.problems.push(`identity file ${path} holds no private key`);
      continue;
    }
    set.identities.push({ path, key: withCachedSigner(key) });
  }
  for (const p of set.problems) {
    if (explicit && !agentOnly.has(p)) logger?.warn?.(p);
    else logger?.debug?.(agentOnly.has(p) ? `${p} (its public key is known: usable through an agent)` : p);
  }
  return set;
}
