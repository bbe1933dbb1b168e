#!/usr/bin/env node
// Time to start and close a fleet of N hosts in this process (needs `pnpm build`).
//
//   node packages/test-fleet/bench/fleet-start.mjs [N ...]     (default: 1000 10000)
import { startFleet } from "../dist/index.js";

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1000, 10000];
for (const hosts of sizes) {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const fleet = await startFleet({ hosts, firstAddress: "127.20.0.1" });
  const startMs = performance.now() - t0;
  const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const t1 = performance.now();
  await fleet.close();
  const closeMs = performance.now() - t1;
  console.log(
    JSON.stringify({
      hosts,
      startMs: Math.round(startMs),
      closeMs: Math.round(closeMs),
      rssGrowthMiB: Math.round(rssMiB),
      lastTarget: fleet.hosts.at(-1)?.target,
    }),
  );
}
