import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, tempDir, waitFor } from "@uptime/test-utils";
import { afterAll, onTestFinished } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
// The sender's --resume state files of these tests go to a temp dir, not ~/.local/state.
const STATE_HOME = mkdtempSync(join(tmpdir(), "uptime-e2e-state-"));
afterAll(() => rm(STATE_HOME, { recursive: true, force: true }));
export const BIN = {
  sender: join(root, "apps/sender/bin/uptime-sender.js"),
  worker: join(root, "apps/worker/bin/uptime-worker.js"),
  sink: join(root, "apps/sink/bin/uptime-sink.js"),
  fleet: join(root, "packages/test-fleet/bin/uptime-test-fleet.js"),
};

export interface App {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
  /** Resolves when stdout or stderr matches, or rejects after `ms`. */
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
}

/** Runs an app as a real child process; it is killed when the test finishes. */
export function runApp(bin: string, args: string[], env: NodeJS.ProcessEnv = {}, stdin = ""): App {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, SSH_AUTH_SOCK: "", XDG_STATE_HOME: STATE_HOME, ...env },
  });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    for (const w of waiters) w();
  });
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1))),
  );
  child.stdin?.end(stdin);
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const waitFor = (re: RegExp, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out) || re.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${re} in\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`,
            ),
          ),
        ms,
      );
      waiters.push(check);
      check();
      void exited.then(() => setTimeout(check, 50));
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}

// The shared helpers, re-exported so that each e2e test imports from one place.
export { freePort, tempDir };

export interface FleetInfo {
  dir: string;
  inventory: string;
  knownHosts: string;
  identity: string;
  targets: string[];
  app: App;
}

/** Starts the simulated fleet as a child process; stopped when the test finishes. */
export async function startFleet(hosts: number, extra: string[] = []): Promise<FleetInfo> {
  const dir = await tempDir("uptime-fleet-");
  const app = runApp(BIN.fleet, ["--hosts", String(hosts), "--out", dir, ...extra]);
  await app.waitFor(/"ready":true/, 30_000);
  const ready = JSON.parse(app.stdout().split("\n")[0] ?? "{}") as {
    inventory: string;
    knownHosts: string;
    identity: string;
  };
  const targets = (await readFile(ready.inventory, "utf8")).trim().split("\n");
  return {
    dir,
    app,
    targets,
    inventory: ready.inventory,
    knownHosts: ready.knownHosts,
    identity: ready.identity,
  };
}

function workerSshFlags(fleet: FleetInfo): string[] {
  return [
    "--identity",
    fleet.identity,
    "--known-hosts",
    fleet.knownHosts,
    "--no-agent",
    "--connect-timeout",
    "3s",
    "--deadline",
    "8s",
  ];
}

export interface Endpoints {
  tasks: string;
  results: string;
}

export async function endpoints(): Promise<Endpoints> {
  return { tasks: `tcp://127.0.0.1:${await freePort()}`, results: `tcp://127.0.0.1:${await freePort()}` };
}

/** `uptime-sink OUTFILE --bind RESULTS --quiet ...`, resolved once it listens. */
export async function startSink(out: string, ep: Endpoints, extra: string[] = []): Promise<App> {
  const sink = runApp(BIN.sink, [out, "--bind", ep.results, "--quiet", ...extra]);
  await sink.waitFor(/listening/);
  return sink;
}

/** `uptime-worker ID CONCURRENCY` connected to both endpoints, with the fleet's key and known_hosts. */
export function startWorker(
  id: string,
  concurrency: number,
  ep: Endpoints,
  fleet: FleetInfo,
  extra: string[] = [],
): App {
  return runApp(BIN.worker, [
    id,
    String(concurrency),
    "-s",
    ep.tasks,
    "-r",
    ep.results,
    ...workerSshFlags(fleet),
    ...extra,
  ]);
}

/** `uptime-sender INVENTORY --bind TASKS ...`. */
export function startSender(inventory: string, ep: Endpoints, extra: string[] = []): App {
  return runApp(BIN.sender, [inventory, "--bind", ep.tasks, ...extra]);
}

/** Host names of the result lines of an output file in the original text format. */
export async function hostsInOutput(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => /host: ([^,]+),/.exec(l)?.[1] ?? `?${l}`);
}

/** Resolves once `file` holds at least `n` result lines; fails after `ms`. */
export async function waitForLines(file: string, n: number, ms = 30_000): Promise<void> {
  await waitFor(async () => (await hostsInOutput(file)).length >= n, {
    timeoutMs: ms,
    intervalMs: 50,
    what: `${n} lines in ${file}`,
  });
}

export { readFile, writeFile };
