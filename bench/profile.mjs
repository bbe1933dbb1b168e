// pnpm bench:profile: runs the pipeline against the simulated fleet with one app under
// --cpu-prof, then prints where its CPU went: top functions by self time, and by package.
// Options: --hosts N (5000) --app worker|sender|sink (worker) --concurrency C (500) --top K (30)
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bins, firstLine, freePort, start, stopAll } from "../scripts/pipeline.mjs";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "5000" },
    app: { type: "string", default: "worker" },
    concurrency: { type: "string", default: "500" },
    top: { type: "string", default: "30" },
  },
});
const dir = join(tmpdir(), `uptime-profile-${process.pid}`);
mkdirSync(dir, { recursive: true });
const fleet = start("fleet", bins.fleet, ["--hosts", values.hosts, "--out", join(dir, "fleet")], {
  stdout: "pipe",
});
const children = [fleet];
try {
  const ready = JSON.parse(await firstLine(fleet));
  const tasks = `tcp://127.0.0.1:${await freePort()}`;
  const results = `tcp://127.0.0.1:${await freePort()}`;
  const args = {
    sink: [bins.sink, join(dir, "out.txt"), "--bind", results, "--quiet", "--exit-after-job"],
    worker: [
      bins.worker,
      "w1",
      values.concurrency,
      "-s",
      tasks,
      "-r",
      results,
      "--identity",
      ready.identity,
      "--known-hosts",
      ready.knownHosts,
      "--no-agent",
    ],
    sender: [bins.sender, ready.inventory, "--bind", tasks, "--progress", "off"],
  };
  const run = (name) => {
    const prof = name === values.app ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
    const child = spawn(process.execPath, [...prof, ...args[name]], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.exited = new Promise((r) => child.once("exit", r));
    children.push(child);
    return child;
  };
  const sink = run("sink");
  const worker = run("worker");
  await new Promise((r) => setTimeout(r, 300));
  await run("sender").exited;
  await sink.exited;
  await stopAll([worker]);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  report(JSON.parse(readFileSync(join(dir, file), "utf8")), Number(values.top));
} finally {
  await stopAll(children);
  rmSync(dir, { recursive: true, force: true });
}

function report(p, top) {
  const time = new Map();
  for (let i = 0; i < p.samples.length; i++)
    time.set(p.samples[i], (time.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map();
  const pkgs = new Map();
  let total = 0;
  for (const n of p.nodes) {
    const t = time.get(n.id) ?? 0;
    total += t;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url
      .replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
      .replace(/^file:\/\/.*?\/(packages|apps)\//, "$1/");
    const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + t);
    const m = /node_modules\/\.pnpm\/(@?[^@/]+)/.exec(url) ?? /\/((?:packages|apps)\/[^/]+)\//.exec(url);
    const pkg = m
      ? m[1]
      : url.startsWith("node:")
        ? `node:${url.slice(5).split("/")[0]}`
        : functionName.startsWith("(")
          ? functionName
          : "native";
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + t);
  }
  const row = (k, t) =>
    `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`;
  console.log(
    `\n${values.app}: ${(total / 1000).toFixed(0)} ms sampled over ${values.hosts} hosts\n\ntop functions by self time:`,
  );
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(k, t));
  console.log("\nby package:");
  for (const [k, t] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(row(k, t));
}
