import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import ssh2 from "ssh2";

/*
 * ssh2 1.17 verifies the server's key-exchange signature through the host key's PEM text on every connection,
 * so OpenSSL 3 decodes the key each time (its slow decoder path). This patch keeps the result and verifies with
 * a KeyObject cached per PEM. It checks the shape it expects and is skipped when ssh2 differs.
 *
 * Not done, on purpose: moving the X25519 exchange keys as raw JWK bytes instead of DER saved another ~0.2 ms
 * per connection, but deadlocks Node 20 under GC pressure (KeyObjectHandle::ExportJWK holds the key's mutex
 * while allocating; the GC it triggers destroys the KeyGenJob of that key pair, whose destructor waits on the
 * same mutex). Reproduced in about half of 5000-host runs with --max-semi-space-size=1; gone without it.
 */

const VERIFY_CACHE_MAX = 4096;
const verifyCache = new Map<string, KeyObject>();
let verifyPatched = false;

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
