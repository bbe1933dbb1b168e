// The unavoidable client crypto of one SSH probe, measured on this machine with node:crypto (OpenSSL), so the
// probe's cold CPU per host can be printed as a multiple of it:
//   - curve25519-sha256 key exchange: an X25519 key pair, its public key out as raw bytes, the server's in,
//     the shared secret; the exchange hash and the six key derivations (SHA-256);
//   - the host key's signature over the exchange hash: the host's ed25519 key imported (a new one per host:
//     a real fleet has one key per host) and verified;
//   - our user-auth signature (ed25519, key already loaded);
//   - a few AEAD packets: aes128-gcm, one context per direction, six packets of 64-224 bytes each way
//     (service request, auth, channel open, exec, data, exit status, close).
// Each step the cheapest safe way node:crypto offers (keys in as JWK: OpenSSL 3's DER/PEM decoders cost 5-10x
// more; our X25519 key out as DER, since a JWK export of a fresh key pair can deadlock Node 20).
// Nothing else (no parsing, no framing, no event loop): a floor no SSH client can go below.
//
//   node bench/crypto-floor.mjs [--iterations 3000]
import {
  createCipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { fileURLToPath } from "node:url";

function hostKeys(n) {
  // Pre-made host keys and signatures: the server's work, not the client's.
  const out = [];
  for (let i = 0; i < n; i++) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const serverX = generateKeyPairSync("x25519")
      .publicKey.export({ format: "der", type: "spki" })
      .subarray(-32);
    out.push({
      privateKey,
      raw,
      serverX,
      rawb64: raw.toString("base64url"),
      serverXb64: serverX.toString("base64url"),
    });
  }
  return out;
}

/** One probe's client crypto, each step done the cheapest way node:crypto offers. */
function oneProbe(host, userKey, transcript) {
  const ours = generateKeyPairSync("x25519");
  // DER out, not JWK: exporting a fresh key pair as JWK deadlocks Node 20 under GC pressure (see
  // packages/ssh-probe/src/fast-crypto.ts), so no client can take that shortcut.
  const ourRaw = ours.publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const serverPub = createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: host.serverXb64 },
    format: "jwk",
  });
  const secret = diffieHellman({ privateKey: ours.privateKey, publicKey: serverPub });
  const h = createHash("sha256")
    .update(transcript)
    .update(ourRaw)
    .update(host.serverX)
    .update(secret)
    .digest();
  const keys = [];
  for (const letter of "ABCDEF")
    keys.push(createHash("sha256").update(secret).update(h).update(letter).digest());
  // A new host key per host (a real fleet), imported and checked against the exchange hash.
  const hostPub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: host.rawb64 }, format: "jwk" });
  if (!verify(null, h, hostPub, host.sig(h))) throw new Error("floor: host signature did not verify");
  sign(null, Buffer.concat([h, transcript.subarray(0, 100)]), userKey);
  // One AEAD context per direction, six packets each way.
  for (let dir = 0; dir < 2; dir++) {
    const c = createCipheriv("aes-128-gcm", keys[2 + dir].subarray(0, 16), keys[dir].subarray(0, 12));
    for (let p = 0; p < 6; p++) c.update(transcript.subarray(0, 64 + p * 32));
    c.final();
    c.getAuthTag();
  }
}

/** Client CPU ms of one probe's unavoidable crypto (median of 5 batches), measured in this process. */
export function measureCryptoFloor(iterations = 3000) {
  const hosts = hostKeys(64);
  // The host signs H; precompute outside the timed part: sign once per (host, H) lazily, cached per call.
  const transcript = randomBytes(1200);
  const userKey = createPrivateKey(
    generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }),
  );
  let serverCpu = 0;
  for (const host of hosts) {
    host.sig = (h) => {
      const t = process.cpuUsage();
      const s = sign(null, h, host.privateKey);
      const d = process.cpuUsage(t);
      serverCpu += d.user + d.system;
      return s;
    };
  }
  for (let i = 0; i < 200; i++) oneProbe(hosts[i % hosts.length], userKey, transcript); // warm-up
  const batches = [];
  const per = Math.max(1, Math.floor(iterations / 5));
  for (let b = 0; b < 5; b++) {
    serverCpu = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < per; i++) oneProbe(hosts[i % hosts.length], userKey, transcript);
    const d = process.cpuUsage(t0);
    batches.push((d.user + d.system - serverCpu) / 1000 / per);
  }
  batches.sort((a, b) => a - b);
  return { msPerProbe: batches[2], batches };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--iterations");
  const r = measureCryptoFloor(i > 0 ? Number(process.argv[i + 1]) : 3000);
  console.log(
    `crypto floor: ${r.msPerProbe.toFixed(3)} ms client CPU per probe (batches ${r.batches.map((b) => b.toFixed(3)).join(" ")})`,
  );
}
