import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair, hostPublicKeys } from "./keys.js";

/** Hosts one process serves at most by default: listeners plus connections stay under a 20,000 fd limit. */
export const HOSTS_PER_PROCESS = 9_000;

/** Set in shard processes: they stop when their stdin (a pipe from the parent) closes. */
export const SHARD_ENV = "UPTIME_TEST_FLEET_SHARD";

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ShardPlan {
  hosts: number;
  firstIndex: number;
  processes: number;
  /** Flags every shard gets unchanged. */
  passThrough: string[];
  dir: string | undefined;
  log(message: string): void;
}

export interface RunningShards {
  ready: Record<string, unknown>;
  /** Resolves with a message when a shard process dies on its own. */
  died: Promise<string>;
  stop(): Promise<void>;
}

interface Shard {
  child: ChildProcess;
  dir: string;
}

function waitReady(child: ChildProcess, index: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(
      () => reject(new Error(`shard ${index} not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`shard ${index} exited before it was ready (${signal ?? `exit ${code}`})`));
    };
    child.once("exit", onExit);
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      try {
        resolve(JSON.parse(buf.slice(0, nl)));
      } catch {
        reject(new Error(`shard ${index} printed no ready line: ${buf.slice(0, 200)}`));
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.destroy();
    child.kill("SIGTERM");
  });
}

/** Starts `processes` CLI processes that serve consecutive slices of one fleet with shared keys. */
export async function startShards(plan: ShardPlan): Promise<RunningShards> {
  const createdDir = plan.dir === undefined;
  const dir = plan.dir ?? (await mkdtemp(join(tmpdir(), "uptime-fleet-")));
  await mkdir(dir, { recursive: true });
  const client = generateKeyPair("uptime-test-fleet");
  const host = generateKeyPair();
  const identity = join(dir, "id_ed25519");
  const hostKeyPath = join(dir, "host_ed25519");
  await rm(identity, { force: true });
  await writeFile(identity, client.privateKey, { mode: 0o600 });
  await chmod(identity, 0o600);
  await writeFile(`${identity}.pub`, `${client.publicKey}\n`);
  await writeFile(hostKeyPath, host.privateKey, { mode: 0o600 });
  const shared = plan.passThrough.includes("--shared-host-key");
  // Per-host keys: fill the public-key cache once here, rather than in every shard at the same time.
  if (!shared) await hostPublicKeys(plan.firstIndex, plan.hosts);

  const bin = fileURLToPath(new URL("../bin/uptime-test-fleet.js", import.meta.url));
  const per = Math.ceil(plan.hosts / plan.processes);
  const shards: Shard[] = [];
  for (let k = 0; k * per < plan.hosts; k++) {
    const count = Math.min(per, plan.hosts - k * per);
    const shardDir = join(dir, `shard-${String(k).padStart(2, "0")}`);
    const args = [
      ...[bin, "--hosts", String(count), "--first-index", String(plan.firstIndex + k * per)],
      ...["--out", shardDir, ...(shared ? ["--host-key", hostKeyPath] : []), "--client-key", identity],
      ...plan.passThrough,
    ];
    const child = spawn(process.execPath, args, {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, [SHARD_ENV]: "1" },
    });
    shards.push({ child, dir: shardDir });
  }
  const stopAll = async (): Promise<void> => {
    await Promise.all(shards.map((s) => stopChild(s.child)));
  };
  let readies: Record<string, unknown>[];
  try {
    readies = await Promise.all(shards.map((s, k) => waitReady(s.child, k)));
  } catch (err) {
    await stopAll();
    if (createdDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const inventory = join(dir, "inventory.txt");
  const knownHosts = join(dir, "known_hosts");
  const knownHostsHashed = join(dir, "known_hosts.hashed");
  const parts = await Promise.all(
    shards.map(async (s) => ({
      inventory: await readFile(join(s.dir, "inventory.txt"), "utf8"),
      known: await readFile(join(s.dir, "known_hosts"), "utf8"),
      hashed: await readFile(join(s.dir, "known_hosts.hashed"), "utf8"),
    })),
  );
  await writeFile(inventory, parts.map((p) => p.inventory).join(""));
  await writeFile(knownHosts, parts.map((p) => p.known).join(""));
  await writeFile(knownHostsHashed, parts.map((p) => p.hashed).join(""));
  plan.log(`${plan.hosts} hosts served by ${shards.length} processes, files in ${dir}`);

  let stopping = false;
  const died = new Promise<string>((resolve) => {
    for (const [k, s] of shards.entries()) {
      s.child.once("exit", (code, signal) => {
        if (!stopping)
          resolve(`shard ${k} (pid ${s.child.pid}) exited on its own (${signal ?? `exit ${code}`})`);
      });
    }
  });
  return {
    ready: {
      ready: true,
      hosts: plan.hosts,
      dir,
      inventory,
      knownHosts,
      knownHostsHashed,
      sharedHostKey: shared,
      identity,
      firstTarget: readies[0]?.firstTarget,
      pid: process.pid,
      processes: shards.length,
      pids: shards.map((s) => s.child.pid),
    },
    died,
    async stop() {
      stopping = true;
      await stopAll();
      if (createdDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
