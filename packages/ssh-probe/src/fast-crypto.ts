import { createPublicKey, verify as cryptoVerify, diffieHellman, type KeyObject } from "node:crypto";
import ssh2 from "ssh2";

/*
 * ssh2 1.17 does every public-key operation of a connection through PEM/DER text, so OpenSSL 3 decodes and
 * encodes keys on each connection (its slow decoder/encoder path): the host key signature is verified through
 * the key's PEM, the X25519 public key is exported as DER and the peer's imported from DER. These patches keep
 * the same results while avoiding the re-encoding: verify with a KeyObject cached per PEM, and move X25519 keys
 * as raw bytes (JWK), which Node maps to EVP_PKEY raw key calls. Each patch checks the shape it expects and is
 * skipped when ssh2 differs, so a future ssh2 falls back to its own code.
 */

const VERIFY_CACHE_MAX = 4096;
const verifyCache = new Map<string, KeyObject>();
let verifyPatched = false;
const kexPatched = new WeakSet<object>();

type KeyLike = {
  getPublicPEM(): string | null;
  type: string;
  [key: symbol]: unknown;
};

/** Replaces ssh2's key verify with one over cached KeyObjects (shared by every ssh2 key object). */
export function installFastVerify(): void {
  if (verifyPatched) return;
  verifyPatched = true;
  const sample = ssh2.utils.parseKey(
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFp3OLF+X1jVGUDRwLCIqQNDVDFs7/6yhaxIZHNwjsik",
  );
  if (sample instanceof Error || Array.isArray(sample)) return;
  const base = Object.getPrototypeOf(sample) as { verify?: unknown; getPublicPEM?: unknown };
  if (typeof base.verify !== "function" || typeof base.getPublicPEM !== "function") return;
  const hashSymbol = Object.getOwnPropertySymbols(sample).find((s) => s.description === "Hash Algorithm");
  if (!hashSymbol) return;
  const original = base.verify as (this: KeyLike, data: Buffer, signature: Buffer, algo?: string) => unknown;
  base.verify = function verify(this: KeyLike, data: Buffer, signature: Buffer, algo?: string): unknown {
    const pem = this.getPublicPEM();
    if (typeof pem !== "string") return original.call(this, data, signature, algo);
    let key = verifyCache.get(pem);
    try {
      if (!key) {
        key = createPublicKey(pem);
        if (verifyCache.size >= VERIFY_CACHE_MAX) verifyCache.clear();
        verifyCache.set(pem, key);
      }
      const hash = algo || (this[hashSymbol] as string | null | undefined);
      return cryptoVerify(this.type === "ssh-ed25519" ? null : (hash ?? null), data, key, signature);
    } catch (err) {
      return err;
    }
  };
}

function toMpint(buf: Buffer): Buffer {
  let i = 0;
  while (i < buf.length - 1 && buf[i] === 0) i++;
  const body = buf.subarray(i);
  if (body[0]! & 0x80) return Buffer.concat([Buffer.from([0]), body]);
  return body.length === buf.length ? buf : Buffer.from(body);
}

interface Curve25519Like {
  generateKeys(): void;
  _keys: { publicKey: KeyObject; privateKey: KeyObject } | null;
}

/**
 * Patches the prototype of ssh2's Curve25519 key exchange, reached through the first live connection (the class
 * is not exported). Later connections use raw-key X25519.
 */
export function patchKeyExchange(client: unknown): void {
  const kex = (client as { _protocol?: { _kex?: object } })?._protocol?._kex;
  if (!kex) return;
  const proto = Object.getPrototypeOf(kex) as Record<string, unknown> & object;
  if (kexPatched.has(proto)) return;
  kexPatched.add(proto);
  if (
    proto.constructor?.name !== "Curve25519Exchange" ||
    typeof proto.getPublicKey !== "function" ||
    typeof proto.computeSecret !== "function" ||
    typeof proto.generateKeys !== "function"
  ) {
    return;
  }
  proto.getPublicKey = function getPublicKey(this: Curve25519Like): Buffer {
    this.generateKeys();
    const jwk = this._keys!.publicKey.export({ format: "jwk" });
    return Buffer.from(jwk.x as string, "base64url");
  };
  proto.computeSecret = function computeSecret(this: Curve25519Like, otherPublicKey: Buffer): Buffer | Error {
    this.generateKeys();
    try {
      const publicKey = createPublicKey({
        key: { kty: "OKP", crv: "X25519", x: otherPublicKey.toString("base64url") },
        format: "jwk",
      });
      return toMpint(diffieHellman({ privateKey: this._keys!.privateKey, publicKey }));
    } catch (err) {
      return err as Error;
    }
  };
}
