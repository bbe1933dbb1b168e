import { readFileSync } from "node:fs";
import { startFleet } from "@uptime/test-fleet";
import ssh2 from "ssh2";
import { expect, onTestFinished, test } from "vitest";
import { fastVerifyStats } from "../src/fast-crypto.js";
import { createProbe } from "../src/index.js";

test("the cached host-key verify serves our connections only: ssh2 keys and clients elsewhere are untouched", async () => {
  const fleet = await startFleet({ hosts: 20 });
  onTestFinished(() => fleet.close());
  const sample = ssh2.utils.parseKey(fleet.hostPublicKey);
  if (sample instanceof Error || Array.isArray(sample)) throw new Error("cannot parse the fleet's host key");
  const proto = Object.getPrototypeOf(sample) as { verify: unknown };
  const original = proto.verify;

  const probe = createProbe({
    agent: false,
    identityFiles: [fleet.clientKeyPath],
    knownHosts: fleet.knownHostsPath,
    pool: false,
  });
  onTestFinished(() => probe.close());
  expect(proto.verify).toBe(original);

  // While our probes run, sample the shared prototype on every turn of the event loop.
  let samples = 0;
  let changed = 0;
  let sampling = true;
  const sampleLoop = (): void => {
    samples++;
    if (proto.verify !== original) changed++;
    if (sampling) setImmediate(sampleLoop);
  };
  setImmediate(sampleLoop);
  const before = fastVerifyStats();
  // A plain ssh2 client in the same process, at the same time, verifies with ssh2's own code.
  const host = fleet.hosts[0]!;
  const bare = new ssh2.Client();
  onTestFinished(() => {
    bare.end();
  });
  const bareReady = new Promise<void>((resolve, reject) => {
    bare.once("ready", () => resolve());
    bare.once("error", reject);
  });
  bare.connect({
    host: host.address,
    port: host.port,
    username: "fleet",
    privateKey: readFileSync(fleet.clientKeyPath),
  });
  const results = await Promise.all(fleet.hosts.map((h) => probe.probe(h.target)));
  await bareReady;
  sampling = false;
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(samples).toBeGreaterThan(0);
  expect(changed).toBe(0);
  expect(proto.verify).toBe(original);
  // Exactly our 20 connections went through the cached verify; the bare client did not.
  const after = fastVerifyStats();
  expect(after.verified - before.verified).toBe(20);
  // Each of our key exchanges computed its X25519 secret the cheap way; the bare client's did not.
  expect(after.fastSecrets - before.fastSecrets).toBe(20);
  // ...and exported our X25519 public key once instead of twice (all but the first exchange of the process,
  // which shows where ssh2 keeps its curve25519 methods); the bare client's exports are not ours.
  expect(after.publicKeysReused - before.publicKeysReused).toBeGreaterThanOrEqual(19);
  expect(after.publicKeysReused - before.publicKeysReused).toBeLessThanOrEqual(20);
  // Those exports were the raw 32 bytes, not DER (every host answered, so the server derived the same secret).
  expect(after.rawPublicKeys - before.rawPublicKeys).toBeGreaterThanOrEqual(19);
  expect(after.rawPublicKeys - before.rawPublicKeys).toBeLessThanOrEqual(20);
});
