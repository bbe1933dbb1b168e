// pnpm bench:profile: runs the pipeline against the simulated fleet with one app under
// --cpu-prof, then prints where its CPU went: top functions by self time, and by package.
// Options: --hosts N (5000) --app worker|sender|sink (worker) --concurrency C (500) --top K (30)
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bins, firstLine, freePort, start, stopAll } from "../scripts/pipeline.mjs";
import { printProfile } from "./cpu-profile.mjs";

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
  printProfile(JSON.parse(readFileSync(join(dir, file), "utf8")), {
    title: values.app,
    top: Number(values.top),
    hosts: Number(values.hosts),
  });
} finally {
  await stopAll(children);
  rmSync(dir, { recursive: true, force: true });
}
