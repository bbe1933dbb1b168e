import { createPublicKey, verify as cryptoVerify, diffieHellman, type KeyObject } from "node:crypto";
import type { Writable } from "node:stream";
import ssh2, { type Client } from "ssh2";

/*
 * ssh2 1.17 verifies the server's key-exchange signature through the host key's PEM text on every connection,
 * so OpenSSL 3 decodes the key each time (its slow decoder path). Our connections verify with a KeyObject cached
 * per PEM instead. The key object is made inside ssh2's key exchange, out of our reach, and its `verify` lives on
 * a prototype shared by every ssh2 key in the process; so the faster `verify` is put on that prototype only while
 * ssh2 parses bytes received by one of our clients (synchronous code: nothing else runs in between) and the
 * original is back before anything else runs. A program using ssh2 beside ssh-probe never sees it. Checks the
 * shape it expects and does nothing when ssh2 differs.
 *
 * Not done, on purpose: moving the X25519 exchange keys as raw JWK bytes instead of DER saved another ~0.2 ms
 * per connection, but deadlocks Node 20 under GC pressure (KeyObjectHandle::ExportJWK holds the key's mutex
 * while allocating; the GC it triggers destroys the KeyGenJob of that key pair, whose destructor waits on the
 * same mutex). Reproduced in about half of 5000-host runs with --max-semi-space-size=1; gone without it.
 */

/** Host keys whose KeyObject is kept: one per distinct host key seen, least recently used dropped first. */
export const VERIFY_CACHE_MAX = 4096;
const verifyCache = new Map<string, KeyObject>();

type KeyLike = {
  getPublicPEM(): string | null;
  type: string;
  [key: symbol]: unknown;
};
type Verify = (this: KeyLike, data: Buffer, signature: Buffer, algo?: string) => unknown;

interface Patch {
  base: { verify: Verify };
  original: Verify;
  fast: Verify;
}

let patch: Patch | null | undefined;

/**
 * A KeyObject for a host key. ed25519 keys go in as JWK: OpenSSL 3 imports a JWK about 8x faster than the PEM
 * ssh2 hands over (its decoder path is slow), and with one key per host this import runs once per new host.
 */
function importPublic(key: KeyLike, pem: string): KeyObject {
  if (key.type === "ssh-ed25519") {
    const blob = (key as unknown as { getPublicSSH(): Buffer }).getPublicSSH();
    // string "ssh-ed25519" (4 + 11) + string key (4 + 32)
    if (blob.length === 51) {
      const x = blob.subarray(19).toString("base64url");
      return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    }
  }
  return createPublicKey(pem);
}
const counters = {
  verified: 0,
  cacheHits: 0,
  cacheMisses: 0,
  fastSecrets: 0,
  publicKeysReused: 0,
  rawPublicKeys: 0,
};

function prepare(): Patch | null {
  if (patch !== undefined) return patch;
  patch = null;
  const sample = ssh2.utils.parseKey(
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFp3OLF+X1jVGUDRwLCIqQNDVDFs7/6yhaxIZHNwjsik",
  );
  if (sample instanceof Error || Array.isArray(sample)) return patch;
  const base = Object.getPrototypeOf(sample) as { verify?: unknown; getPublicPEM?: unknown };
  if (typeof base.verify !== "function" || typeof base.getPublicPEM !== "function") return patch;
  const hashSymbol = Object.getOwnPropertySymbols(sample).find((s) => s.description === "Hash Algorithm");
  if (!hashSymbol) return patch;
  const original = base.verify as Verify;
  const fast: Verify = function verify(
    this: KeyLike,
    data: Buffer,
    signature: Buffer,
    algo?: string,
  ): unknown {
    const pem = this.getPublicPEM();
    if (typeof pem !== "string") return original.call(this, data, signature, algo);
    counters.verified++;
    let key = verifyCache.get(pem);
    try {
      if (key) {
        counters.cacheHits++;
        // Most recently used last, so the first key is the one to drop.
        verifyCache.delete(pem);
      } else {
        counters.cacheMisses++;
        key = importPublic(this, pem);
        if (verifyCache.size >= VERIFY_CACHE_MAX)
          verifyCache.delete(verifyCache.keys().next().value as string);
      }
      verifyCache.set(pem, key);
      const hash = algo || (this[hashSymbol] as string | null | undefined);
      return cryptoVerify(this.type === "ssh-ed25519" ? null : (hash ?? null), data, key, signature);
    } catch (err) {
      return err;
    }
  };
  patch = { base: base as Patch["base"], original, fast };
  return patch;
}

/**
 * Makes `client` (after `connect()`) verify host-key signatures through cached KeyObjects and do its X25519
 * exchange the cheap way, for this client only; and, when `sock` is given, sends everything one received chunk
 * makes ssh2 write as one write (corked while ssh2 parses it) instead of one syscall per packet: on loopback
 * or a LAN each write costs a syscall and the peer's receive path, the largest non-crypto item of a cold
 * probe's profile. No-op when ssh2's internals are not as expected.
 */
export function useFastVerify(client: Client, sock?: Writable): void {
  const p = prepare();
  const proto = (client as unknown as { _protocol?: { parse?: unknown } })._protocol;
  if (!p || !proto || typeof proto.parse !== "function") return;
  const parse = proto.parse as (...args: unknown[]) => unknown;
  const owner = proto as { _kex?: KexLike };
  const cork = sock && typeof sock.cork === "function" ? sock : undefined;
  proto.parse = function scopedParse(this: unknown, ...args: unknown[]): unknown {
    cork?.cork();
    try {
      return withFastVerify(() => parse.apply(this, args));
    } finally {
      cork?.uncork();
      // The first key exchange of ours shows where ssh2 keeps its curve25519 methods.
      if (curve === undefined && owner._kex) learnCurve(owner._kex);
    }
  };
}

/** ssh2's curve25519 key exchange object, as far as we use it. */
interface KexLike {
  type?: unknown;
  _keys?: { privateKey: KeyObject; publicKey?: KeyObject } | null;
  generateKeys?: () => void;
  getPublicKey?: () => unknown;
  computeSecret?: (other: Buffer) => unknown;
}
type GetPublicKey = (this: KexLike) => unknown;
type ComputeSecret = (this: KexLike, other: Buffer) => unknown;
interface CurveProto {
  getPublicKey: GetPublicKey;
  computeSecret: ComputeSecret;
}
interface CurvePatch {
  proto: CurveProto;
  original: CurveProto;
  fast: CurveProto;
}
/** undefined: not seen yet; null: ssh2 differs from what we expect, leave it alone. */
let curve: CurvePatch | null | undefined;
/** Our public X25519 key per exchange: ssh2 exports it as DER twice (KEXECDH_INIT, then the exchange hash). */
const publicKeys = new WeakMap<object, unknown>();

/** An X25519 public KeyObject's 32 bytes, the same bytes as the end of its DER; undefined if it is not one. */
function rawPublicKey(key: KeyObject | undefined): Buffer | undefined {
  if (key?.asymmetricKeyType !== "x25519") return undefined;
  try {
    const { x } = key.export({ format: "jwk" });
    const raw = typeof x === "string" ? Buffer.from(x, "base64url") : undefined;
    return raw?.length === 32 ? raw : undefined;
  } catch {
    return undefined;
  }
}

/** Same as ssh2's `convertToMpint`: the shared secret as an SSH mpint body. */
function toMpint(buf: Buffer): Buffer {
  let idx = 0;
  while (idx < buf.length && buf[idx] === 0) idx++;
  const body = buf.subarray(idx);
  return body.length > 0 && body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : Buffer.from(body);
}

/**
 * Finds ssh2's curve25519 class from one of its exchange objects and prepares two replacements for its methods,
 * put on its prototype only while ssh2 parses bytes of one of our clients (as the verify above):
 * - `getPublicKey` exports our X25519 public key once per exchange instead of twice (the second came from
 *   hashing the exchange), and as its raw 32 bytes (JWK `x`) instead of DER: ssh2 exports DER and keeps the
 *   last 32 bytes, and OpenSSL 3's DER encoder costs about 80 µs where the raw export costs 2 (the largest item
 *   of the worker's profile that was not crypto);
 * - `computeSecret` imports the server's X25519 key as JWK: ssh2 writes DER and has OpenSSL 3 decode it, its slow
 *   path, about 10x dearer than a JWK import of the same 32 bytes.
 */
function learnCurve(kex: KexLike): void {
  if (kex.type !== "25519") return;
  curve = null;
  const proto = Object.getPrototypeOf(kex) as Partial<CurveProto> & { generateKeys?: unknown };
  if (
    typeof proto.getPublicKey !== "function" ||
    typeof proto.computeSecret !== "function" ||
    typeof proto.generateKeys !== "function"
  ) {
    return;
  }
  const original: CurveProto = { getPublicKey: proto.getPublicKey, computeSecret: proto.computeSecret };
  const fast: CurveProto = {
    getPublicKey: function getPublicKey(this: KexLike): unknown {
      if (publicKeys.has(this)) {
        counters.publicKeysReused++;
        return publicKeys.get(this);
      }
      this.generateKeys?.();
      const raw = rawPublicKey(this._keys?.publicKey);
      const key = raw ?? original.getPublicKey.call(this);
      if (raw) counters.rawPublicKeys++;
      publicKeys.set(this, key);
      return key;
    },
    computeSecret: function computeSecret(this: KexLike, other: Buffer): unknown {
      this.generateKeys?.();
      const privateKey = this._keys?.privateKey;
      if (!privateKey || !Buffer.isBuffer(other) || other.length !== 32) {
        return original.computeSecret.call(this, other);
      }
      try {
        const publicKey = createPublicKey({
          key: { kty: "OKP", crv: "X25519", x: other.toString("base64url") },
          format: "jwk",
        });
        counters.fastSecrets++;
        return toMpint(diffieHellman({ privateKey, publicKey }));
      } catch (err) {
        return err;
      }
    },
  };
  curve = { proto: proto as CurveProto, original, fast };
}

/**
 * Runs `fn` with ssh2 keys verifying through cached KeyObjects (and, once learnt, ssh2's curve25519 exchange
 * using the methods above); ssh2's own methods are back when it returns.
 */
export function withFastVerify<T>(fn: () => T): T {
  const p = prepare();
  // Someone else replaced ssh2's verify, or we are already inside: leave it as it is.
  if (!p || p.base.verify !== p.original) return fn();
  const c = curve && curve.proto.getPublicKey === curve.original.getPublicKey ? curve : undefined;
  p.base.verify = p.fast;
  if (c) {
    c.proto.getPublicKey = c.fast.getPublicKey;
    c.proto.computeSecret = c.fast.computeSecret;
  }
  try {
    return fn();
  } finally {
    p.base.verify = p.original;
    if (c) {
      c.proto.getPublicKey = c.original.getPublicKey;
      c.proto.computeSecret = c.original.computeSecret;
    }
  }
}

/** Counters of the cached verify, and the cache's size (for tests and benchmarks). */
export function fastVerifyStats(): {
  verified: number;
  cacheHits: number;
  cacheMisses: number;
  fastSecrets: number;
  publicKeysReused: number;
  /** Our X25519 public keys exported raw (not as DER). */
  rawPublicKeys: number;
  cached: number;
} {
  return { ...counters, cached: verifyCache.size };
}
