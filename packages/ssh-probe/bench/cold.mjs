#!/usr/bin/env node
// Cold probes at a worker's fan-out, with the crypto floor in the same run, and optionally a CPU profile of
// the measured rounds (run `pnpm build` first). The fleet (a host key per host) runs in a child process, on
// CPUs of its own where there are two or more (fleet.mjs), so this process's CPU is the client's alone.
//
//   node bench/cold.mjs [--hosts 1500] [--concurrency 256] [--rounds 3] [--mode keyfile|agent|both]
//                       [--profile] [--top 30] [--baseline DIR] [--pooled] [--shared-host-key]
//                       [--latency MS] [--agent-impl openssh|node] [--rate N]
//
// --pooled: pooled re-probes instead of cold ones (each variant keeps one pool of `hosts` connections, filled by
// a warm-up round; then every round re-probes every host over it). --shared-host-key: the fleet of the old
// benchmarks, one host key for every host. --latency MS: the fleet delays every write by MS.
// --rate N: hand the probe N hosts per second instead of all at once, so that every variant runs at the same
// rate (below what the slowest can do) and idles alike: an event loop woken for fewer events at a time spends
// more CPU per event, so variants that run at different rates are not compared like for like.
// --agent-impl node: the agent path through node-agent.mjs (OpenSSL's ed25519, in a process of its own on the
// fleet's CPUs) instead of the fleet's OpenSSH ssh-agent, whose slow signatures hold the probe back.
// --baseline DIR: a build of another version of this package (a copy of its dist/); each round also runs it, the
// rounds alternating, so both are measured under the same load on the machine (ratios "new / baseline").
// --profile samples the last round of each mode with the inspector's profiler and prints the top functions by
// self time and the time by package (the profiled round is not counted in the medians).
import { Session } from "node:inspector/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { printProfile } from "../../../bench/cpu-profile.mjs";
import { measureCryptoFloor } from "../../../bench/crypto-floor.mjs";
import { createProbe } from "../dist/index.js";
import { median, placementText, startFleet, startOnFleetCpus } from "./fleet.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "1500" },
    concurrency: { type: "string", default: "256" },
    rounds: { type: "string", default: "3" },
    mode: { type: "string", default: "both" },
    profile: { type: "boolean", default: false },
    top: { type: "string", default: "30" },
    baseline: { type: "string" },
    pooled: { type: "boolean", default: false },
    "shared-host-key": { type: "boolean", default: false },
    latency: { type: "string", default: "0" },
    "agent-impl": { type: "string", default: "openssh" },
    rate: { type: "string", default: "0" },
  },
});
const hosts = Number(values.hosts);
const rate = Number(values.rate);
if (!Number.isFinite(rate) || rate < 0)
  throw new Error(`--rate is hosts per second (0: all at once), not ${values.rate}`);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const modes = values.mode === "both" ? ["keyfile", "agent"] : [values.mode];
const baseline = values.baseline
  ? await import(pathToFileURL(join(values.baseline, "index.js")).href)
  : undefined;
/** Every variant measured each round: this build's modes, then the baseline's. */
const variants = [
  ...modes.map((mode) => ({ name: mode, mode, create: createProbe })),
  ...(baseline
    ? modes.map((mode) => ({ name: `baseline ${mode}`, mode, create: baseline.createProbe }))
    : []),
];

if (!["openssh", "node"].includes(values["agent-impl"])) {
  throw new Error(`--agent-impl is openssh or node, not ${values["agent-impl"]}`);
}
const fleet = await startFleet(hosts, [
  "--agent",
  "--latency",
  values.latency,
  ...(values["shared-host-key"] ? ["--shared-host-key"] : []),
]);
const { ready, targets } = fleet;
let agentSocket = ready.agentSocket;
let nodeAgent;
if (values["agent-impl"] === "node") {
  agentSocket = join(ready.dir, "node-agent.sock");
  nodeAgent = await startOnFleetCpus(join(here, "node-agent.mjs"), [agentSocket, ready.identity]).catch(
    async (error) => {
      await fleet.stop();
      throw error;
    },
  );
}

function optionsFor(mode) {
  return {
    concurrency,
    retries: 0,
    pool: values.pooled ? { maxConnections: hosts } : false,
    knownHosts: ready.knownHosts,
    ...(mode === "agent"
      ? { agent: agentSocket, identityFiles: [] }
      : { agent: false, identityFiles: [ready.identity] }),
  };
}

/** `list`, released at `perSecond` items per second. */
async function* paced(list, perSecond) {
  const t0 = performance.now();
  for (let i = 0; i < list.length; i++) {
    const wait = t0 + (i / perSecond) * 1000 - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    yield list[i];
  }
}

/** The pooled probe of each variant, kept across rounds. */
const pools = new Map();

async function round({ name, mode, create }) {
  let probe = pools.get(name);
  if (!probe) {
    probe = create(optionsFor(mode));
    if (values.pooled) pools.set(name, probe);
  }
  const cpu0 = process.cpuUsage();
  const ru0 = process.resourceUsage();
  const t0 = performance.now();
  let failed = 0;
  let firstError;
  for await (const r of probe.probeAll(rate > 0 ? paced(targets, rate) : targets)) {
    if (!r.ok) {
      failed++;
      firstError ??= `${r.error.code} ${r.error.message}`;
    }
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const ru1 = process.resourceUsage();
  if (!values.pooled) await probe.close();
  return {
    variant: name,
    failed,
    firstError,
    cpuMsPerHost: (cpu.user + cpu.system) / 1000 / targets.length,
    // Times this process slept and was woken (voluntary context switches): a variant held back by something
    // else wakes for fewer events at a time, and each wake costs CPU.
    wakesPerHost: Number(
      ((ru1.voluntaryContextSwitches - ru0.voluntaryContextSwitches) / targets.length).toFixed(2),
    ),
    hostsPerS: Math.round((targets.length / wall) * 1000),
  };
}

const series = Object.fromEntries(variants.map((v) => [v.name, []]));
const rates = Object.fromEntries(variants.map((v) => [v.name, []]));
const floors = [];
try {
  floors.push(measureCryptoFloor().msPerProbe);
  // Warm-up: JIT, the fleet's own caches, the agent's connections.
  for (const v of variants) console.error(JSON.stringify({ round: "warm-up", ...(await round(v)) }));
  for (let i = 0; i < rounds; i++) {
    // Alternate the order too, so no variant always follows the same one.
    for (const v of i % 2 ? [...variants].reverse() : variants) {
      const r = await round(v);
      series[v.name].push(r.cpuMsPerHost);
      rates[v.name].push(r.hostsPerS);
      console.error(JSON.stringify({ round: i + 1, ...r }));
    }
  }
  floors.push(measureCryptoFloor().msPerProbe);
  const floor = median(floors);
  const summary = {
    hosts,
    concurrency,
    rounds,
    pooled: values.pooled,
    "added latency ms": Number(values.latency),
    "rate hosts/s": rate || "all at once",
    "agent implementation": values["agent-impl"],
    // Throughput medians: a variant held back by something other than our CPU (ssh-agent answering one
    // signature at a time, on a CPU shared with the fleet) idles between events, and an event loop woken for
    // fewer events at a time spends more CPU per host.
    ...Object.fromEntries(variants.map((v) => [`${v.name} hosts/s`, median(rates[v.name])])),
    "crypto floor ms": Number(floor.toFixed(3)),
    "cpu placement": placementText(),
  };
  for (const v of variants) {
    const m = median(series[v.name]);
    summary[`${v.name} cpu ms/host`] = Number(m.toFixed(3));
    summary[`${v.name} / floor`] = Number((m / floor).toFixed(2));
  }
  const ratio = (a, b) => Number((median(series[a]) / median(series[b])).toFixed(3));
  if (modes.length === 2) {
    summary["agent / keyfile"] = ratio("agent", "keyfile");
    if (baseline) summary["baseline agent / baseline keyfile"] = ratio("baseline agent", "baseline keyfile");
  }
  if (baseline)
    for (const mode of modes) summary[`${mode}: new / baseline`] = ratio(mode, `baseline ${mode}`);
  console.log(JSON.stringify(summary));

  if (values.profile) {
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    for (const v of variants) {
      await session.post("Profiler.start");
      await round(v);
      const { profile } = await session.post("Profiler.stop");
      if (process.env.COLD_PROFILE_OUT) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(
          `${process.env.COLD_PROFILE_OUT}-${v.name.replace(" ", "-")}.cpuprofile`,
          JSON.stringify(profile),
        );
      }
      printProfile(profile, { title: v.name, top: Number(values.top), packages: 12, hosts, skipIdle: true });
    }
    session.disconnect();
  }
} finally {
  for (const probe of pools.values()) await probe.close();
  await nodeAgent?.stop();
  await fleet.stop();
}
