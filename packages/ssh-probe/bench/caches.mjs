#!/usr/bin/env node
// Memory per entry of what ssh-probe caches per host key or per host, for 100,000 distinct hosts (run with
// --expose-gc): the host-key verify cache (PEM text -> KeyObject, src/fast-crypto.ts) and the known_hosts
// verdict cache ("[host]:port keyBase64" -> verdict, src/known-hosts.ts), built the way those modules build
// them, plus what a verify-cache miss costs (a JWK import of an ed25519 key).
//
//   node --expose-gc bench/caches.mjs [--hosts 100000]
import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";

const i = process.argv.indexOf("--hosts");
const N = i > 0 ? Number(process.argv[i + 1]) : 100_000;
if (!global.gc) throw new Error("run with node --expose-gc");

const gc = () => {
  global.gc();
  global.gc();
};

// known_hosts verdicts: one per (name, key) checked.
gc();
let h0 = process.memoryUsage().heapUsed;
const verdicts = new Map();
for (let k = 0; k < N; k++) {
  const name = `[127.${1 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}]:2222`;
  const blob = Buffer.concat([Buffer.from("0000000b7373682d6564323535313900000020", "hex"), randomBytes(32)]);
  verdicts.set(`${name} ${blob.toString("base64")}`, undefined);
}
gc();
const verdictBytes = (process.memoryUsage().heapUsed - h0) / verdicts.size;

// Verify cache: PEM -> KeyObject, one per distinct host key.
const xs = [];
// DER, not JWK, out of fresh key pairs: a JWK export of a fresh pair can deadlock Node 20 under GC pressure.
for (let k = 0; k < N; k++) {
  xs.push(
    generateKeyPairSync("ed25519")
      .publicKey.export({ format: "der", type: "spki" })
      .subarray(-32)
      .toString("base64url"),
  );
}
const pems = xs.map((x) =>
  createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }).export({
    format: "pem",
    type: "spki",
  }),
);
gc();
h0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage.rss();
const keys = new Map();
const t0 = process.cpuUsage();
for (let k = 0; k < N; k++)
  keys.set(pems[k], createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: xs[k] }, format: "jwk" }));
const importCpu = process.cpuUsage(t0);
gc();
const keyHeap = (process.memoryUsage().heapUsed - h0) / keys.size;
const keyRss = (process.memoryUsage.rss() - rss0) / keys.size;
const pemBytes = pems[0].length + 16;

console.log(`${N} distinct hosts:`);
console.log(
  `  known_hosts verdict cache: ${verdictBytes.toFixed(0)} B heap per entry -> ${((verdictBytes * N) / 2 ** 20).toFixed(1)} MiB`,
);
console.log(
  `  verify cache: ${(keyRss + pemBytes).toFixed(0)} B per entry (KeyObject ${keyRss.toFixed(0)} B RSS outside the heap, ${keyHeap.toFixed(0)} B heap, PEM key ~${pemBytes} B) -> ${(((keyRss + pemBytes) * N) / 2 ** 20).toFixed(1)} MiB`,
);
console.log(
  `  a verify-cache miss (JWK import of the host key): ${((importCpu.user + importCpu.system) / 1000 / N).toFixed(4)} ms CPU`,
);
