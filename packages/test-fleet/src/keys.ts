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
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? parsed[0]! : parsed;
}

function publicLineOf(parsed: ParsedKey): string {
  return `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
}

/** Generates an ed25519 host key, parsed once and shared by every listener that serves it. */
export function createHostKey(): HostKey {
  const pair = utils.generateKeyPairSync("ed25519");
  const parsed = parseOne(pair.private);
  // ssh2 signs the exchange hash through a PEM string on every handshake; a cached KeyObject is ~10x cheaper.
  const privateKey = createPrivateKey(parsed.getPrivatePEM());
  parsed.sign = (data: Buffer | string) => cryptoSign(null, Buffer.from(data), privateKey);
  return { parsed, publicLine: publicLineOf(parsed) };
}

/** Generates the fleet's client key pair (ed25519, OpenSSH format) and its cached verifier. */
export function createClientKey(comment = "uptime-test-fleet"): ClientKey {
  const pair = utils.generateKeyPairSync("ed25519", { comment });
  const parsed = parseOne(pair.private);
  const keyData = parsed.getPublicSSH();
  const publicKey = createPublicKey(parsed.getPublicPEM());
  return {
    privateOpenSSH: pair.private,
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
