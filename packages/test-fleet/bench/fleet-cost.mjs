#!/usr/bin/env node
// Server CPU per connection+exec of the test fleet.
// The fleet runs in its own process (the CLI); this process is the client: N connections, each
// handshake + publickey auth + exec "uptime", at a fixed concurrency. The fleet's CPU comes from
// /proc/<pid>/stat, so client work is not counted.
//
//   node packages/test-fleet/bench/fleet-cost.mjs [--connections 500] [--concurrency 50] [--hosts 50] [--latency 0]
//     [--execs-per-connection 1]   (more than 1: the cost of an exec on a reused connection)
// FLEET_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the fleet process.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ssh2 from "ssh2";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "500" },
    concurrency: { type: "string", default: "50" },
    hosts: { type: "string", default: "50" },
    latency: { type: "string", default: "0" },
    "execs-per-connection": { type: "string", default: "1" },
  },
});
const connections = Number(values.connections);
const concurrency = Number(values.concurrency);
const hostCount = Number(values.hosts);
const execsPerConnection = Number(values["execs-per-connection"]);
const bin = fileURLToPath(new URL("../bin/uptime-test-fleet.js", import.meta.url));
const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuMsOf(pid) {
  // Fields after the ")" of the command name: utime is field 14, stime 15 (1-based over the whole line).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
}

const child = spawn(
  process.execPath,
  [
    ...(process.env.FLEET_NODE_ARGS ?? "").split(" ").filter(Boolean),
    bin,
    "--hosts",
    String(hostCount),
    "--first-address",
    "127.9.0.1",
    "--latency",
    values.latency,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const ready = await new Promise((resolve, reject) => {
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    const nl = buf.indexOf("\n");
    if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
  });
  child.once("exit", (code) => reject(new Error(`fleet exited early with ${code}`)));
});
const privateKey = readFileSync(ready.identity, "utf8");
const targets = readFileSync(ready.inventory, "utf8")
  .trim()
  .split("\n")
  .map((line) => {
    const m = /^(.+)@(.+):(\d+)$/.exec(line);
    return { user: m[1], host: m[2], port: Number(m[3]) };
  });

function probeOnce(t) {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    const timer = setTimeout(() => done(false), 20_000);
    let settled = false;
    function done(ok) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      resolve(ok);
    }
    client.on("error", () => done(false));
    let left = execsPerConnection;
    const execOnce = () =>
      client.exec("uptime", (err, stream) => {
        if (err) return done(false);
        let out = "";
        stream.on("data", (d) => {
          out += d;
        });
        stream.on("close", () => {
          if (!/load averages?:/.test(out)) return done(false);
          if (--left > 0) execOnce();
          else done(true);
        });
      });
    client.on("ready", execOnce);
    client.connect({ host: t.host, port: t.port, username: t.user, privateKey, readyTimeout: 15_000 });
  });
}

const cpuBefore = cpuMsOf(child.pid);
const clientBefore = process.cpuUsage();
const start = performance.now();
let next = 0;
let ok = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, connections) }, async () => {
    while (next < connections) {
      const t = targets[next++ % targets.length];
      if (await probeOnce(t)) ok++;
    }
  }),
);
const wallMs = performance.now() - start;
const serverCpuMs = cpuMsOf(child.pid) - cpuBefore;
const clientCpu = process.cpuUsage(clientBefore);
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));

const result = {
  connections,
  concurrency,
  hosts: hostCount,
  latencyMs: Number(values.latency),
  execsPerConnection,
  ok,
  wallMs: Math.round(wallMs),
  perSecond: Math.round((connections / wallMs) * 1000),
  serverCpuMs,
  serverCpuMsPerConnection: Number((serverCpuMs / connections).toFixed(3)),
  clientCpuMsPerConnection: Number(((clientCpu.user + clientCpu.system) / 1000 / connections).toFixed(3)),
};
console.log(JSON.stringify(result));
