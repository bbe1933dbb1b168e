import ssh2 from "ssh2";
import { expect, test } from "vitest";
import { fastVerifyStats, withFastVerify } from "./fast-crypto.js";

test.each([
  ["ed25519", undefined],
  ["ecdsa", 256],
  ["ecdsa", 521],
  ["rsa", 2048],
] as const)(
  "the cached verify accepts good and rejects bad %s signatures, only inside its scope",
  (type, bits) => {
    const pair = ssh2.utils.generateKeyPairSync(type as "ed25519", bits ? ({ bits } as never) : undefined);
    const priv = ssh2.utils.parseKey(pair.private);
    const pub = ssh2.utils.parseKey(pair.public);
    if (priv instanceof Error || pub instanceof Error || Array.isArray(priv) || Array.isArray(pub)) {
      // ssh2's generator occasionally emits an unparseable ed25519 key; not what this test is about.
      return;
    }
    const original = Object.getPrototypeOf(pub).verify;
    const data = Buffer.from("exchange hash");
    for (const algo of type === "rsa" ? ["sha256", "sha512"] : [undefined]) {
      const sig = priv.sign(data, algo);
      const before = fastVerifyStats();
      withFastVerify(() => {
        expect(Object.getPrototypeOf(pub).verify).not.toBe(original);
        expect(pub.verify(data, sig, algo)).toBe(true);
        expect(pub.verify(data, sig, algo)).toBe(true); // cached KeyObject path
        expect(pub.verify(Buffer.from("other data"), sig, algo)).toBe(false);
      });
      const after = fastVerifyStats();
      expect(after.verified - before.verified).toBe(3);
      expect(after.cacheHits - before.cacheHits).toBeGreaterThanOrEqual(2);
      // Outside the scope: ssh2's own verify, untouched.
      expect(Object.getPrototypeOf(pub).verify).toBe(original);
      expect(pub.verify(data, sig, algo)).toBe(true);
      expect(fastVerifyStats().verified).toBe(after.verified);
    }
  },
);
