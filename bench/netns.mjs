// pnpm bench:netns: the pipeline with workers in separate Linux network namespaces, so that
// worker-to-sender and worker-to-sink traffic crosses real (veth) interfaces, with CURVE on.
// Each worker namespace has its own copy of the simulated fleet on its loopback (same keys,
// same addresses), as a worker sits near the hosts it probes. Needs root and iproute2;
// otherwise prints why it is skipped. Addresses: 169.254.213.0/24 link-local, on veths made here.
//
// Options: --hosts N (5000) --workers W (2) --concurrency C per worker (500)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bins, firstLine, readUsage, startCommand, stopAll } from "../scripts/pipeline.mjs";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "5000" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "500" },
  },
});
const workers = Number(values.workers);
const skip = (why) => {
  console.log(`bench:netns skipped: ${why}`);
  process.exit(0);
};
if (process.getuid?.() !== 0) skip("needs root to create network namespaces");
if (spawnSync("ip", ["-V"]).status !== 0) skip("iproute2 (ip) is not installed");

const work = join(tmpdir(), `uptime-netns-${process.pid}`);
mkdirSync(work, { recursive: true });
const ns = (i) => `uptime-bench-w${i}`;
const hostAddr = (i) => `169.254.213.${4 * i + 1}`;
const nsAddr = (i) => `169.254.213.${4 * i + 2}`;
const ip = (...args) => execFileSync("ip", args, { stdio: "pipe" });
const children = [];

function setUp() {
  for (let i = 1; i <= workers; i++) {
    ip("netns", "add", ns(i));
    ip("link", "add", `ubv${i}`, "type", "veth", "peer", "name", `ubp${i}`);
    ip("link", "set", `ubp${i}`, "netns", ns(i));
    ip("addr", "add", `${hostAddr(i)}/30`, "dev", `ubv${i}`);
    ip("link", "set", `ubv${i}`, "up");
    ip("netns", "exec", ns(i), "ip", "addr", "add", `${nsAddr(i)}/30`, "dev", `ubp${i}`);
    ip("netns", "exec", ns(i), "ip", "link", "set", `ubp${i}`, "up");
    ip("netns", "exec", ns(i), "ip", "link", "set", "lo", "up");
  }
}

function tearDown() {
  for (let i = 1; i <= workers; i++) {
    spawnSync("ip", ["netns", "del", ns(i)]);
    spawnSync("ip", ["link", "del", `ubv${i}`]);
  }
}

tearDown();
try {
  setUp();
  // Shared keys: every namespace's fleet serves the same host key and accepts the same client key.
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(work, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(work, "client_key")]);
  let ready;
  for (let i = 1; i <= workers; i++) {
    const fleet = startCommand(
      `fleet${i}`,
      "ip",
      [
        "netns",
        "exec",
        ns(i),
        process.execPath,
        bins.fleet,
        "--hosts",
        values.hosts,
        "--port",
        "2222",
        "--host-key",
        join(work, "host_key"),
        "--client-key",
        join(work, "client_key"),
        "--out",
        join(work, `fleet${i}`),
      ],
      { stdout: "pipe" },
    );
    children.push(fleet);
    ready = JSON.parse(await firstLine(fleet));
  }
  // CURVE keys for every party, and the allow-list of worker keys.
  const gen = (bin, file) =>
    execFileSync(process.execPath, [bin, "--gen-key", join(work, file)], { encoding: "utf8" }).trim();
  gen(bins.sender, "sender.key");
  gen(bins.sink, "sink.key");
  const allow = [];
  for (let i = 1; i <= workers; i++) allow.push(gen(bins.worker, `w${i}.key`));
  writeFileSync(join(work, "allow"), `${allow.join("\n")}\n`);

  const usage = join(work, "usage.ndjson");
  const env = { UPTIME_USAGE_FILE: usage };
  const out = join(work, "out.txt");
  const [tasksPort, resultsPort] = [45557, 45558];
  const sink = startCommand(
    "sink",
    process.execPath,
    [
      bins.sink,
      out,
      "--bind",
      `tcp://*:${resultsPort}`,
      "--quiet",
      "--exit-after-job",
      "--curve-secret",
      join(work, "sink.key"),
      "--curve-allow",
      join(work, "allow"),
    ],
    { env },
  );
  children.push(sink);
  for (let i = 1; i <= workers; i++) {
    children.push(
      startCommand(
        `w${i}`,
        "ip",
        [
          "netns",
          "exec",
          ns(i),
          process.execPath,
          bins.worker,
          `w${i}`,
          values.concurrency,
          "-s",
          `tcp://${hostAddr(i)}:${tasksPort}`,
          "-r",
          `tcp://${hostAddr(i)}:${resultsPort}`,
          "--identity",
          ready.identity,
          "--known-hosts",
          ready.knownHosts,
          "--no-agent",
          "--curve-secret",
          join(work, `w${i}.key`),
          "--sender-key",
          join(work, "sender.key.pub"),
          "--sink-key",
          join(work, "sink.key.pub"),
        ],
        { env },
      ),
    );
  }
  const t0 = performance.now();
  const sender = startCommand(
    "sender",
    process.execPath,
    [
      bins.sender,
      ready.inventory,
      "--bind",
      `tcp://*:${tasksPort}`,
      "--progress",
      "plain",
      "--curve-secret",
      join(work, "sender.key"),
      "--curve-allow",
      join(work, "allow"),
    ],
    { env },
  );
  children.push(sender);
  const code = await sender.exited;
  const wallS = (performance.now() - t0) / 1000;
  const late = setTimeout(() => sink.kill("SIGTERM"), 10_000);
  await sink.exited;
  clearTimeout(late);
  await stopAll(children);
  const lines = readFileSync(out, "utf8").trimEnd().split("\n");
  const { rows, cpuMs } = readUsage(usage);
  const hosts = Number(values.hosts);
  const answered = lines.filter((l) => l.includes(", result: ")).length;
  const distinct = new Set(lines.map((l) => /host: ([^,]+),/.exec(l)?.[1])).size;
  console.log(
    `\nnetns scale-out, CURVE on: ${workers} workers in their own namespaces over veth, sender and sink in the root namespace`,
  );
  console.log(
    `hosts ${hosts}, answered ${answered}, lines ${lines.length} (distinct hosts ${distinct}), sender exit ${code}`,
  );
  console.log(
    `wall ${wallS.toFixed(2)} s, ${(answered / wallS).toFixed(0)} hosts/s, client CPU ${(cpuMs / hosts).toFixed(2)} ms/host`,
  );
  for (const r of rows)
    console.log(
      `  ${r.app.padEnd(14)} CPU ${(r.userMs + r.systemMs).toFixed(0).padStart(6)} ms  peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
  mkdirSync(new URL("./results", import.meta.url), { recursive: true });
  writeFileSync(
    new URL("./results/netns.json", import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), hosts, workers, concurrency: Number(values.concurrency), wallS, answered, lines: lines.length, cpuMs, processes: rows }, null, 2)}\n`,
  );
  process.exitCode = code === 0 && answered === hosts && lines.length === hosts ? 0 : 1;
} finally {
  await stopAll(children);
  tearDown();
  rmSync(work, { recursive: true, force: true });
}
