#!/usr/bin/env node
// Time to start and close a fleet of N hosts (needs `pnpm build`).
//
//   node packages/test-fleet/bench/fleet-start.mjs [N ...]         in this process (default: 1000 10000)
//   node packages/test-fleet/bench/fleet-start.mjs --cli [N ...]   through the CLI, time to its ready line
//                                                                  (above 9000 hosts it runs several processes)
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startFleet } from "../dist/index.js";

const cli = process.argv.includes("--cli");
const args = process.argv.slice(2).filter((a) => a !== "--cli");
const sizes = args.length > 0 ? args.map(Number) : cli ? [1000, 10000, 100000] : [1000, 10000];
const bin = fileURLToPath(new URL("../bin/uptime-test-fleet.js", import.meta.url));

async function inProcess(hosts) {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const fleet = await startFleet({ hosts, firstAddress: "127.20.0.1" });
  const startMs = performance.now() - t0;
  const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const t1 = performance.now();
  await fleet.close();
  const closeMs = performance.now() - t1;
  return {
    hosts,
    mode: "in-process",
    startMs: Math.round(startMs),
    closeMs: Math.round(closeMs),
    rssGrowthMiB: Math.round(rssMiB),
    lastTarget: fleet.hosts.at(-1)?.target,
  };
}

async function viaCli(hosts) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, "--hosts", String(hosts), "--first-address", "127.21.0.1"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const ready = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) resolve(JSON.parse(buf.slice(0, buf.indexOf("\n"))));
    });
    child.once("exit", (code) => reject(new Error(`fleet exited with ${code}`)));
  });
  const readyMs = performance.now() - t0;
  const lines = readFileSync(ready.inventory, "utf8").trim().split("\n");
  const t1 = performance.now();
  child.kill("SIGTERM");
  const code = await new Promise((r) => child.once("exit", r));
  return {
    hosts,
    mode: "cli",
    processes: ready.processes ?? 1,
    readyMs: Math.round(readyMs),
    stopMs: Math.round(performance.now() - t1),
    exit: code,
    inventoryLines: lines.length,
    lastTarget: lines.at(-1),
  };
}

for (const hosts of sizes) console.log(JSON.stringify(cli ? await viaCli(hosts) : await inProcess(hosts)));
