// pnpm bench:in-flight: memory per in-flight SSH connection, the bare ssh2 client against @uptime/ssh-probe.
// Each client opens N connections at once to the simulated fleet (with added latency, so all N are in
// flight together), runs `uptime` on each, and reports from a fresh child process:
//   - peak RSS over the child's own RSS before the run, per connection (what the benchmark target measures),
//   - live JS heap per connection while all N are in flight (forced full GCs, in a second run),
//   - client CPU ms per host.
// The bare loop is the floor any ssh2-based client pays; the difference is ssh-probe's own bookkeeping.
//
// Options: --connections N (2048) --latency MS (50) --node-flags="V8 flags for the children" --json FILE
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bins, firstLine, start, stopAll } from "../scripts/pipeline.mjs";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "2048" },
    latency: { type: "string", default: "50" },
    "node-flags": { type: "string", default: "" },
    json: { type: "string" },
    child: { type: "string" },
  },
});

if (values.child) await child(JSON.parse(values.child));
else await main();

async function main() {
  const n = Number(values.connections);
  const work = join(tmpdir(), `uptime-bench-in-flight-${process.pid}`);
  const fleet = start(
    "fleet",
    bins.fleet,
    ["--hosts", String(n), "--latency", values.latency, "--out", work],
    { stdout: "pipe", stderr: "ignore" },
  );
  try {
    const ready = JSON.parse(await firstLine(fleet));
    const rows = [];
    for (const client of ["ssh2", "ssh-probe"]) {
      const peak = await runChild({ ...ready, client, mode: "peak" });
      const live = await runChild({ ...ready, client, mode: "live" });
      rows.push({
        client,
        connections: n,
        latencyMs: Number(values.latency),
        nodeFlags: values["node-flags"],
        ok: peak.ok,
        wallS: peak.wallMs / 1000,
        cpuMsPerHost: peak.cpuMs / n,
        baseRssMiB: peak.rss0 / 2 ** 20,
        peakRssMiB: peak.maxRss / 2 ** 20,
        rssPerConnectionKiB: (peak.maxRss - peak.rss0) / n / 1024,
        liveHeapPerConnectionKiB: live.liveHeap / n / 1024,
      });
    }
    const f = (x, d = 1) => x.toFixed(d);
    console.log(
      `${n} connections in flight at once, ${values.latency} ms one-way latency${values["node-flags"] ? `, node ${values["node-flags"]}` : ""}\n` +
        "client        ok     wall s  CPU ms/host  base RSS MiB  peak RSS MiB  RSS/conn KiB  live heap/conn KiB",
    );
    for (const r of rows) {
      console.log(
        `${r.client.padEnd(12)}${String(r.ok).padStart(5)}${f(r.wallS, 2).padStart(10)}${f(r.cpuMsPerHost, 2).padStart(13)}` +
          `${f(r.baseRssMiB).padStart(14)}${f(r.peakRssMiB).padStart(14)}${f(r.rssPerConnectionKiB).padStart(14)}${f(r.liveHeapPerConnectionKiB).padStart(20)}`,
      );
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  } finally {
    await stopAll([fleet]);
  }
}

function runChild(params) {
  const flags = ["--expose-gc", ...values["node-flags"].split(/\s+/).filter(Boolean)];
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [...flags, new URL(import.meta.url).pathname, "--child", JSON.stringify(params)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${params.client} child exited ${code}`)),
    );
  });
}

async function child({ client, mode, inventory, identity, knownHosts }) {
  const targets = readFileSync(inventory, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
  const n = targets.length;
  let finished = 0;
  const run = client === "ssh2" ? await bareSsh2(identity) : await sshProbe(identity, knownHosts);
  global.gc();
  const rss0 = process.memoryUsage.rss();
  const heap0 = process.memoryUsage().heapUsed;
  // "live": full GCs while every connection is still open; the largest heap seen is what they hold.
  let liveHeap = 0;
  const sampler =
    mode === "live"
      ? setInterval(() => {
          if (finished > 0) return;
          global.gc();
          liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed - heap0);
        }, 100)
      : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = await run(targets, () => finished++);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  console.log(
    JSON.stringify({
      ok,
      n,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rss0,
      maxRss: process.resourceUsage().maxRSS * 1024,
      liveHeap,
    }),
  );
  process.exit(0);
}

/** ssh2's Client as its README shows it: one connect, one exec, end. */
async function bareSsh2(identity) {
  const ssh2 = createRequire(import.meta.url)("ssh2");
  const privateKey = readFileSync(identity);
  return async (targets, onDone) => {
    const results = await Promise.all(
      targets.map(
        (line) =>
          new Promise((resolve) => {
            const m = /^(?:([^@]+)@)?(.+):(\d+)$/.exec(line);
            const c = new ssh2.Client();
            const done = (ok) => {
              onDone();
              c.end();
              resolve(ok);
            };
            c.on("error", () => done(false));
            c.on("ready", () =>
              c.exec("uptime", (err, ch) => {
                if (err) return done(false);
                let out = "";
                ch.on("data", (d) => (out += d));
                ch.stderr.resume();
                ch.on("close", () => done(out.includes("load average")));
              }),
            );
            c.connect({
              host: m[2],
              port: Number(m[3]),
              username: m[1],
              privateKey,
              hostVerifier: () => true,
              readyTimeout: 60_000,
            });
          }),
      ),
    );
    return results.filter(Boolean).length;
  };
}

async function sshProbe(identity, knownHosts) {
  const { createProbe } = await import("@uptime/ssh-probe");
  return async (targets, onDone) => {
    const probe = createProbe({
      concurrency: targets.length,
      identityFiles: [identity],
      knownHosts,
      agent: false,
      pool: false,
    });
    let ok = 0;
    for await (const r of probe.probeAll(targets)) {
      onDone();
      if (r.ok) ok++;
    }
    await probe.close();
    return ok;
  };
}
