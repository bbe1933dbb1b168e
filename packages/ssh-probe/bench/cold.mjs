#!/usr/bin/env node
// Cold probes at a worker's fan-out, with the crypto floor in the same run, and optionally a CPU profile of
// the measured rounds (run `pnpm build` first). The fleet (a host key per host) runs in a child process, so this
// process's CPU is the client's alone.
//
//   node bench/cold.mjs [--hosts 1500] [--concurrency 256] [--rounds 3] [--mode keyfile|agent|both]
//                       [--profile] [--top 30] [--baseline DIR] [--pooled] [--shared-host-key]
//
// --pooled: pooled re-probes instead of cold ones (each variant keeps one pool of `hosts` connections, filled by
// a warm-up round; then every round re-probes every host over it). --shared-host-key: the fleet of the old
// benchmarks, one host key for every host.
// --baseline DIR: a build of another version of this package (a copy of its dist/); each round also runs it, the
// rounds alternating, so both are measured under the same load on the machine (ratios "new / baseline").
// --profile samples the last round of each mode with the inspector's profiler and prints the top functions by
// self time and the time by package (the profiled round is not counted in the medians).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { printProfile } from "../../../bench/cpu-profile.mjs";
import { measureCryptoFloor } from "../../../bench/crypto-floor.mjs";
import { createProbe, parseInventory } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
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
  },
});
const hosts = Number(values.hosts);
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

const out = mkdtempSync(join(tmpdir(), "ssh-probe-cold-"));
if (!existsSync(join(root, "packages", "test-fleet", "dist", "cli.js"))) {
  throw new Error("packages/test-fleet is not built: run `pnpm build` at the repository root first");
}
const fleet = spawn(
  process.execPath,
  [
    join(root, "packages", "test-fleet", "bin", "uptime-test-fleet.js"),
    "--hosts",
    String(hosts),
    "--out",
    out,
    "--agent",
    ...(values["shared-host-key"] ? ["--shared-host-key"] : []),
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const ready = await new Promise((resolve, reject) => {
  let buf = "";
  const timer = setTimeout(() => reject(new Error("fleet not ready within 120 s")), 120_000);
  fleet.stdout.on("data", (d) => {
    buf += d;
    const nl = buf.indexOf("\n");
    if (nl >= 0) {
      clearTimeout(timer);
      resolve(JSON.parse(buf.slice(0, nl)));
    }
  });
  fleet.once("exit", (code) => reject(new Error(`fleet exited with ${code}`)));
});
const targets = parseInventory(readFileSync(ready.inventory, "utf8")).targets.map((t) => t.text);

function optionsFor(mode) {
  return {
    concurrency,
    retries: 0,
    pool: values.pooled ? { maxConnections: hosts } : false,
    knownHosts: ready.knownHosts,
    ...(mode === "agent"
      ? { agent: ready.agentSocket, identityFiles: [] }
      : { agent: false, identityFiles: [ready.identity] }),
  };
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
  const t0 = performance.now();
  let failed = 0;
  let firstError;
  for await (const r of probe.probeAll(targets)) {
    if (!r.ok) {
      failed++;
      firstError ??= `${r.error.code} ${r.error.message}`;
    }
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!values.pooled) await probe.close();
  return {
    variant: name,
    failed,
    firstError,
    cpuMsPerHost: (cpu.user + cpu.system) / 1000 / targets.length,
    hostsPerS: Math.round((targets.length / wall) * 1000),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const series = Object.fromEntries(variants.map((v) => [v.name, []]));
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
    "crypto floor ms": Number(floor.toFixed(3)),
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
  fleet.kill("SIGTERM");
  await new Promise((r) => (fleet.exitCode !== null ? r() : fleet.once("exit", r)));
  rmSync(out, { recursive: true, force: true });
}
