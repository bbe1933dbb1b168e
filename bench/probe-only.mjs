// The bare probe library on its own: probeAll over an inventory, same SSH settings as a worker.
// Prints one JSON line with hosts, ok, wall ms, CPU ms and peak RSS. Used by bench/run.mjs.
import { readFile } from "node:fs/promises";
import { createProbe } from "@uptime/ssh-probe";

const [inventory, identity, knownHosts, concurrency = "256"] = process.argv.slice(2);
const targets = (await readFile(inventory, "utf8")).split("\n").filter((l) => l && !l.startsWith("#"));
const probe = createProbe({
  concurrency: Number(concurrency),
  identityFiles: [identity],
  knownHosts,
  agent: false,
  pool: false,
});
const t0 = performance.now();
let ok = 0;
for await (const r of probe.probeAll(targets)) if (r.ok) ok++;
const wallMs = performance.now() - t0;
await probe.close();
const u = process.resourceUsage();
console.log(
  JSON.stringify({
    hosts: targets.length,
    ok,
    wallMs,
    cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
    maxRssKiB: u.maxRSS,
  }),
);
