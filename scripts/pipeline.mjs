// Runs the whole pipeline on one machine as separate processes: sink, workers, sender.
// Used by `pnpm demo` (against the simulated fleet) and `pnpm run-local HOSTFILE` (against real hosts).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "../packages/test-utils/src/free-port.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const bins = {
  sender: `${root}apps/sender/bin/uptime-sender.js`,
  worker: `${root}apps/worker/bin/uptime-worker.js`,
  sink: `${root}apps/sink/bin/uptime-sink.js`,
  report: `${root}apps/report/bin/uptime-report.js`,
  fleet: `${root}packages/test-fleet/bin/uptime-test-fleet.js`,
};

/** A free loopback port for a sender's or sink's `--bind` (the tests' own helper, one implementation). */
export { freePort };

/** Starts a command as a child; resolves its exit code via `.exited`. stdio: [ignore|pipe|inherit] per stream. */
export function startCommand(name, cmd, args, { stdout = "inherit", stderr = "inherit", env = {} } = {}) {
  const child = spawn(cmd, args, {
    stdio: ["ignore", stdout, stderr],
    env: { ...process.env, ...env },
  });
  child.label = name;
  child.exited = new Promise((resolve) =>
    child.once("exit", (code, sig) => resolve(code ?? (sig ? 128 : 1))),
  );
  return child;
}

/** Starts a Node script (one of `bins`) as a child, like {@link startCommand}. */
export function start(name, bin, args, options) {
  return startCommand(name, process.execPath, [bin, ...args], options);
}

/** The rows the apps wrote to UPTIME_USAGE_FILE at exit, and their CPU ms summed. */
export function readUsage(file) {
  const rows = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  return { rows, cpuMs: rows.reduce((a, r) => a + r.userMs + r.systemMs, 0) };
}

/** Resolves with the first line a child prints on stdout (the fleet's ready line). */
export function firstLine(child) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d) => {
      buf += d;
      const i = buf.indexOf("\n");
      if (i >= 0) {
        child.stdout.off("data", onData);
        resolve(buf.slice(0, i));
      }
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${child.label} exited (${code}) before it was ready`)));
  });
}

/** Stops children with SIGTERM, then SIGKILL after `graceMs`. */
export async function stopAll(children, graceMs = 5000) {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      c.kill("SIGTERM");
      const t = setTimeout(() => c.kill("SIGKILL"), graceMs);
      await c.exited;
      clearTimeout(t);
    }),
  );
}

/**
 * Runs sink + workers + sender for a host file and waits for the sender to finish.
 * Returns the sender's exit code.
 */
export async function runPipeline({
  hostFile,
  outFile,
  workers = 2,
  concurrency = 200,
  workerArgs = [],
  sinkArgs = [],
  senderArgs = [],
}) {
  const [taskPort, resultPort] = [await freePort(), await freePort()];
  const tasks = `tcp://127.0.0.1:${taskPort}`;
  const results = `tcp://127.0.0.1:${resultPort}`;
  const children = [];
  const cleanup = () => stopAll(children);
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const sink = start("sink", bins.sink, [
      ...(outFile ? [outFile] : []),
      "--bind",
      results,
      "--exit-after-job",
      ...sinkArgs,
    ]);
    children.push(sink);
    for (let i = 1; i <= workers; i++) {
      children.push(
        start(`worker${i}`, bins.worker, [
          `worker${i}`,
          String(concurrency),
          "-s",
          tasks,
          "-r",
          results,
          ...workerArgs,
        ]),
      );
    }
    const sender = start("sender", bins.sender, [hostFile, "--bind", tasks, ...senderArgs]);
    children.push(sender);
    const code = await sender.exited;
    // The sink exits by itself once it has printed the job's summary.
    const t = setTimeout(() => sink.kill("SIGTERM"), 10_000);
    await sink.exited;
    clearTimeout(t);
    return code;
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
