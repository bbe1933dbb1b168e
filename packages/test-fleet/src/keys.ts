import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
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
