#!/usr/bin/env node
// Benchmark of @uptime/ssh-probe against the built dist (run `pnpm build` first, or `pnpm bench:probe`).
// The simulated fleet runs in a CHILD process so this process's CPU is the client's alone.
//
//   node bench/probe.mjs [--hosts 1000] [--concurrency 100] [--rounds 3] [--big 10000] [--baseline]
//
// The fleet is the realistic one (a host key per host); a second fleet with one shared host key (the old, best
// case) runs beside it for comparison, and the fleet's ssh-agent (holding the client key) serves the agent
// phases. Cold phases alternate between the variants round by round so that a loaded machine weighs on all of
// them alike, and the unavoidable client crypto of one probe (bench/crypto-floor.mjs) is measured in the same
// run: the summary prints medians and ratios (agent / key file, shared / distinct, cold / floor).
//
// Prints, per phase: hosts/s, client CPU ms per host (user+system of this process), peak RSS. With --big N the
// memory-scaling runs (N/5 and N hosts, concurrency 50 and 200) each use a fresh process and also report the
// heap retained after a full GC; BENCH_CHILD_FLAGS passes V8 flags to those processes.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { measureCryptoFloor } from "../../../bench/crypto-floor.mjs";
import { createProbe } from "../dist/index.js";
import { median, placementText, runAll, startFleet } from "./fleet.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    big: { type: "string", default: "0" },
    baseline: { type: "boolean", default: false },
    // internal: child mode for the memory-scaling runs
    child: { type: "string" },
  },
});

if (values.child) {
  // One probeAll over the first `limit` targets in a fresh process, so its peak RSS is its own.
  const { inventory, knownHosts, identity, concurrency: c, limit } = JSON.parse(values.child);
  const targets = parseInventory(readFileSync(inventory, "utf8"))
    .targets.slice(0, limit)
    .map((t) => t.text);
  const probe = createProbe({
    agent: false,
    identityFiles: [identity],
    knownHosts,
    concurrency: c,
    pool: false,
  });
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const progress = setInterval(() => console.error(`child: ${JSON.stringify(probe.stats())}`), 5000);
  const { ok, failed, firstError } = await runAll(probe, targets);
  clearInterval(progress);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // What the run left behind (after a full GC, before close): must not grow with the number of hosts.
  global.gc?.();
  const retainedMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  await probe.close();
  console.log(
    JSON.stringify({
      ok,
      failed,
      firstError,
      wall,
      cpuMsPerHost: (cpu.user + cpu.system) / 1000 / targets.length,
      rssStartMB: rss0 / 2 ** 20,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      retainedMB,
    }),
  );
  process.exit(0);
}
const hosts = Number(values.hosts);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const big = Number(values.big);

function rssSampler() {
  // The kernel's peak (maxRSS) costs nothing to read; a sampling timer would add CPU to the client figures.
  return () => Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage.rss());
}

async function measure(name, n, fn) {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const stop = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { ok, failed, firstError } = await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const peak = stop();
  const row = {
    phase: name,
    hosts: n,
    ok,
    failed,
    "hosts/s": Math.round((n / wall) * 1000),
    "cpu ms/host": Number(((cpu.user + cpu.system) / 1000 / n).toFixed(3)),
    "wall s": Number((wall / 1000).toFixed(2)),
    "rss before MB": Number((rssBefore / 2 ** 20).toFixed(1)),
    "peak rss MB (process)": Number((peak / 2 ** 20).toFixed(1)),
  };
  if (firstError) row.firstError = firstError;
  return row;
}

async function bareSsh2(targets, identity, conc) {
  // The naive loop the figures compare against: ssh2 Client with the PEM key, new connection per host.
  const require = createRequire(join(root, "packages", "ssh-probe", "package.json"));
  const { Client } = require("ssh2");
  const key = readFileSync(identity);
  let ok = 0;
  let failed = 0;
  let next = 0;
  async function worker() {
    while (next < targets.length) {
      const t = targets[next++];
      const m = /^(?:(.*)@)?([^:]+):(\d+)$/.exec(t);
      await new Promise((resolve) => {
        const c = new Client();
        const done = (good) => {
          good ? ok++ : failed++;
          c.end();
          resolve();
        };
        c.on("error", () => done(false));
        c.on("ready", () =>
          c.exec("uptime", (err, s) => {
            if (err) return done(false);
            s.on("data", () => {});
            s.on("close", () => done(true));
          }),
        );
        c.connect({ host: m[2], port: Number(m[3]), username: m[1] ?? "root", privateKey: key });
      });
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  return { ok, failed };
}

/** CPU seconds (user+system) a process has used so far, from /proc (the fleet's ssh-agent). */
function procCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

const fleet = await startFleet(hosts, ["--agent"]);
const sharedFleet = await startFleet(hosts, ["--shared-host-key", "--first-address", "127.2.0.1"]);
const rows = [];
const series = { floor: [], keyfile: [], agent: [], agentWithAgentCpu: [], shared: [], pooled: [] };
try {
  const common = { concurrency, retries: 0 };
  const keyFile = (f) => ({
    ...common,
    agent: false,
    identityFiles: [f.ready.identity],
    knownHosts: f.ready.knownHosts,
  });
  const viaAgent = (f) => ({
    ...common,
    agent: f.ready.agentSocket,
    identityFiles: [],
    knownHosts: f.ready.knownHosts,
  });
  if (values.baseline)
    rows.push(
      await measure("bare ssh2 loop (PEM key)", hosts, () =>
        bareSsh2(fleet.targets, fleet.ready.identity, concurrency),
      ),
    );
  series.floor.push(measureCryptoFloor().msPerProbe);
  for (let i = 0; i < rounds; i++) {
    const cold = createProbe({ ...keyFile(fleet), pool: false });
    const a = await measure(`cold, key file, host key per host #${i + 1}`, hosts, () =>
      runAll(cold, fleet.targets),
    );
    await cold.close();
    rows.push(a);
    series.keyfile.push(a["cpu ms/host"]);

    const agentCpu0 = procCpuMs(fleet.ready.agentPid);
    const coldAgent = createProbe({ ...viaAgent(fleet), pool: false });
    const b = await measure(`cold, ssh-agent, host key per host #${i + 1}`, hosts, () =>
      runAll(coldAgent, fleet.targets),
    );
    await coldAgent.close();
    const agentMs = (procCpuMs(fleet.ready.agentPid) - agentCpu0) / hosts;
    b["ssh-agent cpu ms/host"] = Number(agentMs.toFixed(3));
    rows.push(b);
    series.agent.push(b["cpu ms/host"]);
    series.agentWithAgentCpu.push(b["cpu ms/host"] + agentMs);

    const coldShared = createProbe({ ...keyFile(sharedFleet), pool: false });
    const c = await measure(`cold, key file, one shared host key #${i + 1}`, hosts, () =>
      runAll(coldShared, sharedFleet.targets),
    );
    await coldShared.close();
    rows.push(c);
    series.shared.push(c["cpu ms/host"]);
  }
  series.floor.push(measureCryptoFloor().msPerProbe);
  const pooled = createProbe({ ...keyFile(fleet), pool: { maxConnections: hosts } });
  rows.push(await measure("pool warm-up (connect)", hosts, () => runAll(pooled, fleet.targets)));
  for (let i = 0; i < rounds; i++) {
    const r = await measure(`pooled re-probe #${i + 1}`, hosts, () => runAll(pooled, fleet.targets));
    rows.push(r);
    series.pooled.push(r["cpu ms/host"]);
  }
  await pooled.close();
} finally {
  await fleet.stop();
  await sharedFleet.stop();
}

const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, median(v)]));
const summary = {
  "crypto floor ms/probe (this machine, this run)": Number(m.floor.toFixed(3)),
  "cpu placement": placementText(),
  "cold ms/host, key file, host key per host": m.keyfile,
  "cold ms/host, ssh-agent, host key per host": m.agent,
  "cold ms/host, one shared host key": m.shared,
  "pooled re-probe ms/host": m.pooled,
  "cold / floor (host key per host)": Number((m.keyfile / m.floor).toFixed(2)),
  "agent / key file (our process)": Number((m.agent / m.keyfile).toFixed(3)),
  "agent incl. ssh-agent's CPU / key file": Number((m.agentWithAgentCpu / m.keyfile).toFixed(3)),
  "host key per host / shared host key": Number((m.keyfile / m.shared).toFixed(3)),
};
console.log("summary (medians over rounds; load on the machine weighs on all phases alike):");
console.table(summary);

// Extra V8 flags for the fresh processes, e.g. BENCH_CHILD_FLAGS=--max-semi-space-size=1 to see GC sizing.
const childFlags = (process.env.BENCH_CHILD_FLAGS ?? "").split(/\s+/).filter(Boolean);

if (big > 0) {
  // Memory scaling: each run in a fresh process; compare host counts at equal concurrency and vice versa.
  const bigFleet = await startFleet(big);
  try {
    for (const c of [50, 200]) {
      for (const limit of [Math.round(big / 5), big]) {
        const arg = JSON.stringify({
          inventory: bigFleet.ready.inventory,
          knownHosts: bigFleet.ready.knownHosts,
          identity: bigFleet.ready.identity,
          concurrency: c,
          limit,
        });
        const out = await new Promise((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["--expose-gc", ...childFlags, fileURLToPath(import.meta.url), "--child", arg],
            {
              stdio: ["ignore", "pipe", "inherit"],
            },
          );
          let buf = "";
          child.stdout.on("data", (d) => {
            buf += d;
          });
          child.once("exit", (code) =>
            code === 0 ? resolve(JSON.parse(buf)) : reject(new Error(`child ${code}`)),
          );
        });
        const row = {
          phase: `fresh process: ${limit} hosts, concurrency ${c}`,
          hosts: limit,
          ok: out.ok,
          failed: out.failed,
          "hosts/s": Math.round((limit / out.wall) * 1000),
          "cpu ms/host": Number(out.cpuMsPerHost.toFixed(3)),
          "wall s": Number((out.wall / 1000).toFixed(2)),
          "rss before MB": Number(out.rssStartMB.toFixed(1)),
          "peak rss MB (process)": Number(out.maxRssMB.toFixed(1)),
          "retained heap MB": Number(out.retainedMB.toFixed(2)),
        };
        if (out.firstError) row.firstError = out.firstError;
        rows.push(row);
      }
    }
  } finally {
    await bigFleet.stop();
  }
}

console.table(rows);
console.log(JSON.stringify({ node: process.version, hosts, concurrency, summary, rows }));
