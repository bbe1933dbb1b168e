import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
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
const counters = { verified: 0, cacheHits: 0, cacheMisses: 0 };

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
        key = createPublicKey(pem);
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
  proto.parse = function scopedParse(this: unknown, ...args: unknown[]): unknown {
    return withFastVerify(() => parse.apply(this, args));
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
  cached: number;
} {
  return { ...counters, cached: verifyCache.size };
}
