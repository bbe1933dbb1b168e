import { createPublicKey, verify as cryptoVerify, diffieHellman, type KeyObject } from "node:crypto";
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
const counters = { verified: 0, cacheHits: 0, cacheMisses: 0, fastSecrets: 0 };

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
 * Makes `client` (after `connect()`) verify host-key signatures through cached KeyObjects, for this client only.
 * No-op when ssh2's internals are not as expected.
 */
export function useFastVerify(client: Client): void {
  const p = prepare();
  const proto = (client as unknown as { _protocol?: { parse?: unknown } })._protocol;
  if (!p || !proto || typeof proto.parse !== "function") return;
  const parse = proto.parse as (...args: unknown[]) => unknown;
  const owner = proto as { _kex?: KexLike };
  proto.parse = function scopedParse(this: unknown, ...args: unknown[]): unknown {
    const result = withFastVerify(() => parse.apply(this, args));
    // A key exchange begun by these bytes: its secret is computed when the server's reply arrives, later.
    const kex = owner._kex;
    if (kex && !patchedKex.has(kex)) fastSecret(kex);
    return result;
  };
}

/** ssh2's curve25519 key exchange object, as far as we use it. */
interface KexLike {
  type?: unknown;
  _keys?: { privateKey: KeyObject } | null;
  generateKeys?: () => void;
  computeSecret?: (other: Buffer) => unknown;
}
const patchedKex = new WeakSet<object>();

/** Same as ssh2's `convertToMpint`: the shared secret as an SSH mpint body. */
function toMpint(buf: Buffer): Buffer {
  let idx = 0;
  while (idx < buf.length && buf[idx] === 0) idx++;
  const body = buf.subarray(idx);
  return body.length > 0 && body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : Buffer.from(body);
}

/**
 * ssh2 imports the server's X25519 key by writing DER and decoding it, OpenSSL 3's slow path; a JWK import of
 * the same 32 bytes is about 10x cheaper. Set on this one key-exchange object only (an own property), so other
 * ssh2 connections are untouched.
 */
function fastSecret(kex: KexLike): void {
  patchedKex.add(kex);
  if (
    kex.type !== "25519" ||
    typeof kex.generateKeys !== "function" ||
    typeof kex.computeSecret !== "function"
  ) {
    return;
  }
  const original = kex.computeSecret;
  kex.computeSecret = function computeSecret(this: KexLike, other: Buffer): unknown {
    this.generateKeys?.();
    const privateKey = this._keys?.privateKey;
    if (!privateKey || !Buffer.isBuffer(other) || other.length !== 32) return original.call(this, other);
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
  };
}

/** Runs `fn` with ssh2 keys verifying through cached KeyObjects; ssh2's own verify is back when it returns. */
export function withFastVerify<T>(fn: () => T): T {
  const p = prepare();
  // Someone else replaced ssh2's verify, or we are already inside: leave it as it is.
  if (!p || p.base.verify !== p.original) return fn();
  p.base.verify = p.fast;
  try {
    return fn();
  } finally {
    p.base.verify = p.original;
  }
}

/** Counters of the cached verify, and the cache's size (for tests and benchmarks). */
export function fastVerifyStats(): {
  verified: number;
  cacheHits: number;
  cacheMisses: number;
  fastSecrets: number;
  cached: number;
} {
  return { ...counters, cached: verifyCache.size };
}
