import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2, { type ParsedKey } from "ssh2";

const { utils } = ssh2;

/** A host key parsed once, whose `sign` goes through a cached `KeyObject` instead of re-parsing PEM. */
export interface HostKey {
  parsed: ParsedKey;
  /** `ssh-ed25519 AAAA...` (no comment). */
  publicLine: string;
}

/** The one client key the fleet accepts. */
export interface ClientKey {
  privateOpenSSH: string;
  publicLine: string;
  /** Checks a publickey auth attempt: same key blob, and a valid signature when one is given. */
  accepts(algo: string, data: Buffer, blob?: Buffer, signature?: Buffer): boolean;
}

function parseOne(text: string): ParsedKey {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) throw new TypeError(`startFleet: cannot parse key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  if (key.type !== "ssh-ed25519" || !key.isPrivateKey()) {
    throw new TypeError(`startFleet: keys must be unencrypted ed25519 private keys, got a ${key.type} key`);
  }
  return key;
}

function publicLineOf(parsed: ParsedKey): string {
  return `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
}

/**
 * Generates an ed25519 key pair in OpenSSH format. ssh2 1.17's generator drops a leading zero byte of the
 * key (about 1 key in 300 comes out malformed and unparseable, by ssh2 and OpenSSH alike): retry until the
 * key parses with a 32-byte public part.
 */
export function generateKeyPair(comment?: string): { privateKey: string; publicKey: string } {
  for (let attempt = 0; attempt < 64; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", comment === undefined ? {} : { comment });
    const parsed = utils.parseKey(pair.private);
    if (parsed instanceof Error || Array.isArray(parsed)) continue;
    // string "ssh-ed25519" (4 + 11) + string key (4 + 32)
    if (parsed.getPublicSSH().length !== 51) continue;
    return { privateKey: pair.private, publicKey: pair.public };
  }
  throw new Error("could not generate a well-formed ed25519 key");
}

/** Parses (or generates) a host key once; it is shared by every listener that serves it. */
export function createHostKey(privateText?: string): HostKey {
  const parsed = parseOne(privateText ?? generateKeyPair().privateKey);
  // ssh2 signs the exchange hash through a PEM string on every handshake; a cached KeyObject is ~10x cheaper.
  const privateKey = createPrivateKey(parsed.getPrivatePEM());
  parsed.sign = (data: Buffer | string) =>
    cryptoSign(null, typeof data === "string" ? Buffer.from(data) : data, privateKey);
  return { parsed, publicLine: publicLineOf(parsed) };
}

/** The fleet's client key pair (given, or a new ed25519 one) and its cached verifier. */
export function createClientKey(privateKey?: string, comment = "uptime-test-fleet"): ClientKey {
  const privateOpenSSH = privateKey ?? generateKeyPair(comment).privateKey;
  const parsed = parseOne(privateOpenSSH);
  const keyData = parsed.getPublicSSH();
  const publicKey = createPublicKey(parsed.getPublicPEM());
  return {
    privateOpenSSH,
    publicLine: `${publicLineOf(parsed)} ${comment}`,
    accepts(algo, data, blob, signature) {
      if (algo !== "ssh-ed25519" || !data.equals(keyData)) return false;
      if (signature === undefined) return true;
      if (blob === undefined) return false;
      try {
        return cryptoVerify(null, blob, publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}

/** One known_hosts line: `[address]:port key` or plain `address key` on port 22. */
export function knownHostsLine(address: string, port: number, publicLine: string): string {
  return `${port === 22 ? address : `[${address}]:${port}`} ${publicLine}`;
}

/*
 * Per-host host keys. A real fleet has one key per host, so every host here gets its own ed25519 key by default.
 * The private key of host i is derived from its index (these are throwaway keys of simulated hosts on loopback,
 * not secrets), so every process serving a slice of one fleet agrees on the keys without sharing files. What
 * costs time is deriving the public keys for known_hosts (about 40 us each); they are cached on disk, in a
 * versioned file under the temp dir, so a fleet of 100,000 hosts starts as fast the second time as a shared-key
 * one. The private key of a host is only made when a client first connects to it.
 */

const HOST_KEY_LABEL = "uptime-test-fleet host key v1";
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
/** The on-disk cache of derived public keys (32 bytes per host index, from index 0 up). */
export const HOST_KEY_CACHE = join(tmpdir(), "uptime-test-fleet-hostkeys-v1.bin");

/** The 32-byte ed25519 seed of host `index` (`alternate`: the other key a `changed-hostkey` host presents). */
export function hostKeySeed(index: number, alternate = false): Buffer {
  return createHash("sha256")
    .update(`${HOST_KEY_LABEL}${alternate ? " alternate" : ""} ${index}`)
    .digest();
}

function publicOfSeed(seed: Buffer): Buffer {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  // SPKI DER of ed25519 ends with the 32-byte public key.
  return createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** `ssh-ed25519 AAAA...` of a raw 32-byte public key. */
export function ed25519PublicLine(pub: Buffer): string {
  return `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]).toString("base64")}`;
}

/** An unencrypted OpenSSH private key file for an ed25519 seed. */
export function opensshEd25519(seed: Buffer, pub = publicOfSeed(seed), comment = ""): string {
  const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = seed.subarray(0, 4);
  let priv = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from([1, 2, 3, 4, 5, 6, 7].slice(0, pad))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(priv),
  ]).toString("base64");
  const lines = body.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/**
 * The host key of host `index`, parsed, with a cached signer. `publicLine` (from {@link hostPublicKeys}) saves
 * deriving the public key again; the signer is imported as JWK, several times faster than PEM in OpenSSL 3.
 */
export function derivedHostKey(index: number, alternate = false, publicLine?: string): HostKey {
  const seed = hostKeySeed(index, alternate);
  const fromLine = publicLine
    ? Buffer.from(publicLine.split(" ")[1] ?? "", "base64").subarray(19)
    : undefined;
  const pub = fromLine?.length === 32 ? fromLine : publicOfSeed(seed);
  const parsed = parseOne(opensshEd25519(seed, pub));
  const privateKey = createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: seed.toString("base64url"), x: pub.toString("base64url") },
    format: "jwk",
  });
  parsed.sign = (data: Buffer | string) =>
    cryptoSign(null, typeof data === "string" ? Buffer.from(data) : data, privateKey);
  return { parsed, publicLine: publicLineOf(parsed) };
}

/**
 * Public keys (raw 32 bytes) of hosts `first` .. `first + count - 1`, from the disk cache where it has them.
 * The cache grows when a contiguous run from index 0 can be extended; it is replaced atomically (write + rename),
 * and two processes racing write identical bytes.
 */
export async function hostPublicKeys(first: number, count: number): Promise<Buffer[]> {
  let cache: Buffer = Buffer.alloc(0);
  try {
    cache = await readFile(HOST_KEY_CACHE);
  } catch {
    // no cache yet
  }
  const cached = Math.floor(cache.length / 32);
  const keys: Buffer[] = [];
  const fresh: Buffer[] = [];
  for (let i = first; i < first + count; i++) {
    if (i < cached) {
      keys.push(cache.subarray(i * 32, i * 32 + 32));
    } else {
      const pub = publicOfSeed(hostKeySeed(i));
      keys.push(pub);
      fresh.push(pub);
    }
  }
  if (fresh.length > 0 && first <= cached) {
    const grown = Buffer.concat([cache.subarray(0, first * 32 + (count - fresh.length) * 32), ...fresh]);
    const tmp = `${HOST_KEY_CACHE}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, grown);
      await rename(tmp, HOST_KEY_CACHE);
    } catch {
      await rm(tmp, { force: true });
    }
  }
  return keys;
}
