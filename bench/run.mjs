// pnpm bench: the real pipeline (sender, workers, sink as processes) against the simulated fleet,
// and in the same run the peers on the same fleet and hosts: pdsh -R ssh and Debian's parallel-ssh,
// plus the bare probe library. Two regimes: no added latency, and 50 ms one-way latency per write.
// Prints a table and writes bench/results/latest.json.
//
// Options: --hosts N (2000) --fanout F (256; peers always, ours without latency)
//          --latency-fanout F (2048; ours with added latency, where concurrency carries throughput)
//          --workers W (1: one worker process per node thread; the fleet has the other core) --regimes 0,50 --peers pdsh,pssh,probe
//          --port P (2222; every simulated host listens on its own 127.1.x.y address at this port)
//          --worker-node-flags="..." (V8/Node flags for the worker processes, e.g. --worker-node-flags=--max-semi-space-size=1)
//          --shared-host-key (every simulated host serves one host key: the old best case; default: a key per host)
//          --no-pin (share every CPU between the fleet and the clients; by default, on a machine with two or more
//          CPUs and taskset, the fleet runs on the second half of them and every client, ours and the peers alike,
//          on the first half: on a real fleet the servers' CPUs are not the client's)
// Also measures, in the same run, the unavoidable client crypto of one probe (bench/crypto-floor.mjs) and prints
// the client CPU per host of ours and of the bare library as a multiple of it.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bins, firstLine, freePort, readUsage, start, startCommand, stopAll } from "../scripts/pipeline.mjs";
import { describePlacement, onFleetCpus, pinClients } from "./cpu-placement.mjs";
import { measureCryptoFloor } from "./crypto-floor.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "2000" },
    fanout: { type: "string", default: "256" },
    "latency-fanout": { type: "string", default: "2048" },
    workers: { type: "string", default: "1" },
    regimes: { type: "string", default: "0,50" },
    peers: { type: "string", default: "pdsh,pssh,probe" },
    port: { type: "string", default: "2222" },
    "hosts-per-address": { type: "string", default: "1" },
    json: { type: "string", default: join(root, "bench/results/latest.json") },
    "worker-node-flags": { type: "string", default: "" },
    "shared-host-key": { type: "boolean", default: false },
    "no-pin": { type: "boolean", default: false },
  },
});
const hosts = Number(values.hosts);
const fanout = Number(values.fanout);
const workers = Number(values.workers);
const peers = values.peers.split(",").filter(Boolean);
const workerNodeFlags = values["worker-node-flags"].split(/\s+/).filter(Boolean);
/** Starts a worker, with --worker-node-flags when given. */
const startWorker = (name, args, options) =>
  startCommand(name, process.execPath, [...workerNodeFlags, bins.worker, ...args], options);
const placement = pinClients({ disabled: values["no-pin"] });
const work = join(tmpdir(), `uptime-bench-${process.pid}`);
mkdirSync(work, { recursive: true });

function ensureTool(cmd, pkg) {
  if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0) return true;
  console.error(`bench: installing ${pkg} through apt-get for ${cmd}`);
  const r = spawnSync("sh", [
    "-c",
    `apt-get install -y -qq ${pkg} >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ${pkg} >/dev/null 2>&1)`,
  ]);
  return r.status === 0 && spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

/** Runs a command under GNU time; returns wall s, CPU ms (children included), peak RSS KiB, stdout. */
function timed(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const fmt = "%e %U %S %M";
    const child = spawn("/usr/bin/time", ["-f", `@@TIME ${fmt}`, cmd, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      const m = /@@TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      resolve({
        code,
        wallS: Number(m?.[1]),
        cpuMs: (Number(m?.[2]) + Number(m?.[3])) * 1000,
        rssKiB: Number(m?.[4]),
        out,
        err,
      });
    });
  });
}

/** Peak RSS of a worker that connected and got no work: the base to subtract per in-flight connection. */
async function idleWorkerRss() {
  const usage = join(work, "usage-idle.ndjson");
  const tasks = `tcp://127.0.0.1:${await freePort()}`;
  const w = startWorker("idle", ["idle", "10", "-s", tasks, "-r", tasks, "--no-agent"], {
    stdout: "ignore",
    stderr: "ignore",
    env: { UPTIME_USAGE_FILE: usage },
  });
  await new Promise((r) => setTimeout(r, 1000));
  await stopAll([w]);
  try {
    return readUsage(usage).rows[0].maxRssKiB;
  } catch (err) {
    // On a loaded machine the worker may not have installed its exit handler within the second.
    console.error(`bench: no idle worker figure (${err.message}); RSS per connection not computed`);
    return Number.NaN;
  }
}

async function runOurs(fleet, latency, fanout) {
  const usage = join(work, `usage-${latency}.ndjson`);
  rmSync(usage, { force: true });
  const out = join(work, `ours-${latency}.txt`);
  rmSync(out, { force: true });
  rmSync(`${out}.journal`, { force: true });
  const tasks = `tcp://127.0.0.1:${await freePort()}`;
  const results = `tcp://127.0.0.1:${await freePort()}`;
  const env = { UPTIME_USAGE_FILE: usage };
  const opts = { stdout: "ignore", stderr: "pipe", env };
  const sink = start("sink", bins.sink, [out, "--bind", results, "--quiet", "--exit-after-job"], opts);
  const per = Math.ceil(fanout / workers);
  const ws = [];
  for (let i = 1; i <= workers; i++) {
    ws.push(
      startWorker(
        `w${i}`,
        [
          `w${i}`,
          String(per),
          "-s",
          tasks,
          "-r",
          results,
          "--identity",
          fleet.identity,
          "--known-hosts",
          fleet.knownHosts,
          "--no-agent",
        ],
        opts,
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const sender = start("sender", bins.sender, [fleet.inventory, "--bind", tasks, "--progress", "off"], opts);
  let senderErr = "";
  sender.stderr.on("data", (d) => (senderErr += d));
  const code = await sender.exited;
  const wallS = (performance.now() - t0) / 1000;
  await sink.exited;
  await stopAll(ws);
  const lines = readFileSync(out, "utf8").trimEnd().split("\n");
  const { rows, cpuMs } = readUsage(usage);
  const perApp = Object.fromEntries(
    ["uptime-sender", "uptime-worker", "uptime-sink"].map((a) => [
      a,
      rows
        .filter((r) => r.app === a)
        .map((r) => ({ cpuMs: Math.round(r.userMs + r.systemMs), maxRssKiB: r.maxRssKiB })),
    ]),
  );
  if (code !== 0) console.error(`bench: sender exited ${code}: ${senderErr.slice(-500)}`);
  return {
    tool: "uptime-fleet",
    fanout,
    wallS,
    cpuMs,
    rssKiB: Math.max(...rows.map((r) => r.maxRssKiB)),
    rssSumKiB: rows.reduce((a, r) => a + r.maxRssKiB, 0),
    answered: lines.filter((l) => l.includes(", result: ")).length,
    lines: lines.length,
    processes: perApp,
    workerRssSumKiB: rows.filter((r) => r.app === "uptime-worker").reduce((a, r) => a + r.maxRssKiB, 0),
  };
}

function sshConfig(fleet) {
  const cfg = join(work, "ssh_config");
  writeFileSync(
    cfg,
    `Host *\n  Port ${values.port}\n  User fleet\n  IdentityFile ${fleet.identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${fleet.knownHosts}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 10\n  LogLevel ERROR\n`,
  );
  return cfg;
}

async function runPdsh(fleet) {
  const cfg = sshConfig(fleet);
  const r = await timed("pdsh", ["-R", "ssh", "-f", String(fanout), "-w", `^${fleet.addresses}`, "uptime"], {
    PDSH_SSH_ARGS: `-F ${cfg} %h`,
  });
  return {
    tool: "pdsh -R ssh",
    fanout,
    wallS: r.wallS,
    cpuMs: r.cpuMs,
    rssKiB: r.rssKiB,
    answered: r.out.split("\n").filter((l) => / up /.test(l)).length,
  };
}

async function runPssh(fleet) {
  const cfg = sshConfig(fleet);
  const r = await timed("parallel-ssh", [
    "-p",
    String(fanout),
    "-h",
    fleet.addresses,
    "-x",
    `-F ${cfg}`,
    "-t",
    "60",
    "-i",
    "uptime",
  ]);
  return {
    tool: "parallel-ssh",
    fanout,
    wallS: r.wallS,
    cpuMs: r.cpuMs,
    rssKiB: r.rssKiB,
    answered: (r.out.match(/\[SUCCESS\]/g) ?? []).length,
  };
}

async function runProbeOnly(fleet) {
  const r = await timed(process.execPath, [
    join(root, "bench/probe-only.mjs"),
    fleet.inventory,
    fleet.identity,
    fleet.knownHosts,
    String(fanout),
  ]);
  const j = JSON.parse(r.out.trim().split("\n").at(-1) ?? "{}");
  return {
    tool: "ssh-probe alone",
    fanout,
    wallS: r.wallS,
    cpuMs: r.cpuMs,
    rssKiB: r.rssKiB,
    answered: j.ok,
  };
}

const results = [];
const floors = [measureCryptoFloor().msPerProbe];
for (const latency of values.regimes.split(",").map(Number)) {
  const dir = join(work, `fleet-${latency}`);
  const fleetProc = startCommand(
    "fleet",
    ...onFleetCpus(placement, bins.fleet, [
      "--hosts",
      String(hosts),
      "--port",
      values.port,
      "--latency",
      String(latency),
      "--hosts-per-address",
      values["hosts-per-address"],
      "--out",
      dir,
      ...(values["shared-host-key"] ? ["--shared-host-key"] : []),
    ]),
    { stdout: "pipe", stderr: "inherit" },
  );
  try {
    const ready = JSON.parse(await firstLine(fleetProc));
    const addresses = join(work, `addresses-${latency}.txt`);
    writeFileSync(
      addresses,
      `${readFileSync(ready.inventory, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^.*@/, "").replace(/:\d+$/, ""))
        .join("\n")}\n`,
    );
    const fleet = {
      inventory: ready.inventory,
      knownHosts: ready.knownHosts,
      identity: ready.identity,
      addresses,
    };
    console.error(`bench: fleet of ${hosts} hosts, ${latency} ms added latency`);
    const ourFanout = latency > 0 ? Number(values["latency-fanout"]) : fanout;
    const rows = [await runOurs(fleet, latency, ourFanout)];
    if (latency > 0) {
      // The same at a quarter of the fan-out: the difference in the worker's peak RSS over the
      // difference in connections is the memory each added in-flight connection costs.
      const quarter = await runOurs(fleet, latency, Math.round(ourFanout / 4));
      rows[0].rssSlopeKiB =
        (rows[0].workerRssSumKiB - quarter.workerRssSumKiB) / (ourFanout - quarter.fanout);
      rows[0].rssSlopeFrom = { fanout: quarter.fanout, workerRssSumKiB: quarter.workerRssSumKiB };
    }
    if (peers.includes("probe")) rows.push(await runProbeOnly(fleet));
    if (peers.includes("pdsh"))
      rows.push(
        ensureTool("pdsh", "pdsh")
          ? await runPdsh(fleet)
          : { tool: "pdsh", skipped: "pdsh could not be installed" },
      );
    if (peers.includes("pssh"))
      rows.push(
        ensureTool("parallel-ssh", "pssh")
          ? await runPssh(fleet)
          : { tool: "parallel-ssh", skipped: "pssh could not be installed" },
      );
    for (const r of rows) results.push({ latencyMs: latency, hosts, ...r });
  } finally {
    await stopAll([fleetProc]);
  }
}

floors.push(measureCryptoFloor().msPerProbe);
const floor = floors.reduce((a, b) => a + b, 0) / floors.length;
const ours = (lat) => results.find((r) => r.latencyMs === lat && r.tool === "uptime-fleet");
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");
console.log(
  `\n${"latency".padEnd(8)}${"tool".padEnd(18)}${"hosts".padStart(7)}${"fan-out".padStart(9)}${"wall s".padStart(9)}${"hosts/s".padStart(9)}${"CPU ms/host".padStart(13)}${"peak RSS MiB".padStart(14)}${"answered".padStart(10)}${"ours ÷ it".padStart(11)}${"its CPU ÷ ours".padStart(16)}`,
);
for (const r of results) {
  if (r.skipped) {
    console.log(`${`${r.latencyMs}ms`.padEnd(8)}${r.tool.padEnd(18)}  skipped: ${r.skipped}`);
    continue;
  }
  r.hostsPerS = r.answered / r.wallS;
  r.cpuMsPerHost = r.cpuMs / r.hosts;
  const o = ours(r.latencyMs);
  // Throughput ratio (hosts/s), and CPU per host of the peer over ours: what bounds a client whose fleet
  // has CPUs of its own.
  r.ratio = o ? o.answered / o.wallS / r.hostsPerS : undefined;
  r.cpuRatio = o ? r.cpuMsPerHost / (o.cpuMs / o.hosts) : undefined;
  console.log(
    `${`${r.latencyMs}ms`.padEnd(8)}${r.tool.padEnd(18)}${String(r.hosts).padStart(7)}${String(r.fanout).padStart(9)}${fmt(r.wallS, 2).padStart(9)}${fmt(r.hostsPerS).padStart(9)}${fmt(r.cpuMsPerHost, 2).padStart(13)}${fmt(r.rssKiB / 1024, 1).padStart(14)}${String(r.answered).padStart(10)}${(r.tool === "uptime-fleet" ? "" : `${fmt(r.ratio, 1)}x`).padStart(11)}${(r.tool === "uptime-fleet" ? "" : `${fmt(r.cpuRatio, 1)}x`).padStart(16)}`,
  );
}
const idleRss = await idleWorkerRss();
for (const r of results.filter((x) => x.tool === "uptime-fleet")) {
  r.rssPerConnectionKiB = (r.workerRssSumKiB - workers * idleRss) / r.fanout;
  console.log(
    `${r.latencyMs} ms: worker peak RSS per in-flight connection ${fmt(r.rssPerConnectionKiB, 1)} KiB (workers' peak ${fmt(r.workerRssSumKiB / 1024)} MiB, idle worker ${fmt(idleRss / 1024)} MiB, fan-out ${r.fanout})`,
  );
  if (r.rssSlopeKiB !== undefined) {
    console.log(
      `${r.latencyMs} ms: marginal RSS per added in-flight connection ${fmt(r.rssSlopeKiB, 1)} KiB (fan-out ${r.rssSlopeFrom.fanout} -> ${r.fanout}: ${fmt(r.rssSlopeFrom.workerRssSumKiB / 1024)} -> ${fmt(r.workerRssSumKiB / 1024)} MiB)`,
    );
  }
}
const o0 = ours(0);
const o50 = ours(50);
if (o0 && o50)
  console.log(`\nthroughput with 50 ms latency: ${fmt((100 * o50.hostsPerS) / o0.hostsPerS)}% of no-latency`);
const bare = results.find((r) => r.latencyMs === 0 && r.tool === "ssh-probe alone");
if (o0 && bare)
  console.log(
    `pipeline CPU per host over the bare probe library: ${fmt((100 * (o0.cpuMsPerHost - bare.cpuMsPerHost)) / bare.cpuMsPerHost, 1)}%`,
  );
console.log(
  `\ncrypto floor (one probe's unavoidable client crypto, this machine, this run): ${fmt(floor, 3)} ms (${floors.map((f) => fmt(f, 3)).join(", ")}); host keys: ${values["shared-host-key"] ? "one shared" : "one per host"}; ${describePlacement(placement)}`,
);
for (const r of results.filter(
  (x) => x.latencyMs === 0 && (x.tool === "uptime-fleet" || x.tool === "ssh-probe alone"),
)) {
  r.overFloor = r.cpuMsPerHost / floor;
  console.log(
    `${r.tool}: client CPU per host ${fmt(r.cpuMsPerHost, 3)} ms = ${fmt(r.overFloor, 2)}x the crypto floor`,
  );
}
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  values.json,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, hosts, fanout, workers, workerNodeFlags, sharedHostKey: values["shared-host-key"], cpuPlacement: describePlacement(placement), cryptoFloorMs: floor, results }, null, 2)}\n`,
);
console.log(`\nresults written to ${values.json}`);
rmSync(work, { recursive: true, force: true });
