import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir, waitFor } from "@uptime/test-utils";
import { expect, onTestFinished, test } from "vitest";
import { runOpenSsh } from "./test-client.js";
import { expectedUptime } from "./uptime-text.js";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const bin = join(pkg, "bin", "uptime-test-fleet.js");
const distCli = join(pkg, "dist", "cli.js");

/** The bin runs the built dist: fail loudly when it is missing or older than the sources. */
function assertFreshBuild(): void {
  if (!existsSync(distCli)) throw new Error(`${distCli} is missing: run \`pnpm build\` first`);
  const built = statSync(distCli).mtimeMs;
  const src = join(pkg, "src");
  for (const f of readdirSync(src)) {
    if (!f.endsWith(".test.ts") && !f.startsWith("test-") && statSync(join(src, f)).mtimeMs > built) {
      throw new Error(`dist is older than src/${f}: run \`pnpm --filter @uptime/test-fleet build\``);
    }
  }
}

function startCli(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, stdout: () => out, stderr: () => err };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
  });

test("the CLI prints one ready line, serves, and exits 0 on SIGTERM", async () => {
  assertFreshBuild();
  const out = await tempDir("fleet-cli-");
  const cli = startCli([
    "--hosts",
    "4",
    "--first-address",
    "127.7.0.1",
    "--out",
    out,
    "--behaviours",
    "2:silent",
  ]);
  await waitFor(() => cli.stdout().includes("\n"), { timeoutMs: 10_000, what: "the ready line" });
  const ready = JSON.parse(cli.stdout().trim());
  expect(ready).toMatchObject({
    ready: true,
    hosts: 4,
    dir: out,
    inventory: join(out, "inventory.txt"),
    knownHosts: join(out, "known_hosts"),
    identity: join(out, "id_ed25519"),
  });
  const inventory = readFileSync(ready.inventory, "utf8").trim().split("\n");
  expect(inventory).toHaveLength(4);
  expect(inventory[3]).toMatch(/^fleet@127\.7\.0\.4:\d+$/);
  cli.child.kill("SIGTERM");
  expect(await exited(cli.child)).toBe(0);
  expect(cli.stdout().trim().split("\n")).toHaveLength(1);
  expect(cli.stderr()).toContain("SIGTERM");
});

test("bad flags exit 2 with a clear message", async () => {
  assertFreshBuild();
  for (const args of [["--hosts", "many"], ["--hosts", "3", "--behaviours", "1:teleport"], ["--nope"], []]) {
    const cli = startCli(args);
    expect(await exited(cli.child)).toBe(2);
    expect(cli.stderr()).toMatch(/--hosts|teleport|nope/);
  }
  // A value startFleet refuses (an option error, code INVALID_OPTION) is a usage error too.
  const cli = startCli(["--hosts", "2", "--first-address", "10.0.0.1"]);
  expect(await exited(cli.child)).toBe(2);
  expect(cli.stderr()).toContain("firstAddress");
});

test("--processes splits one fleet over several processes sharing keys and files", async () => {
  assertFreshBuild();
  const cli = startCli(["--hosts", "6", "--processes", "2", "--first-address", "127.8.0.1"]);
  await waitFor(() => cli.stdout().includes("\n"), { timeoutMs: 20_000, what: "the ready line" });
  const ready = JSON.parse(cli.stdout().trim());
  expect(ready).toMatchObject({ ready: true, hosts: 6, processes: 2 });
  expect(ready.pids).toHaveLength(2);
  const inventory = readFileSync(ready.inventory, "utf8").trim().split("\n");
  expect(inventory.map((l) => l.replace(/:\d+$/, ""))).toEqual(
    [1, 2, 3, 4, 5, 6].map((n) => `fleet@127.8.0.${n}`),
  );
  expect(readFileSync(ready.knownHosts, "utf8").trim().split("\n")).toHaveLength(6);
  // A host of the second process answers with the key and known_hosts the parent wrote.
  const target = inventory[4]!;
  const { stdout } = await runOpenSsh([
    ...["-i", ready.identity, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
    ...["-o", `UserKnownHostsFile=${ready.knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
    ...["-p", target.split(":")[1]!, target.split(":")[0]!, "uptime"],
  ]);
  expect(stdout).toBe(`${expectedUptime(4).raw}\n`);
  cli.child.kill("SIGTERM");
  expect(await exited(cli.child)).toBe(0);
  for (const pid of ready.pids as number[]) expect(() => process.kill(pid, 0)).toThrow();
  expect(existsSync(ready.dir)).toBe(false);
});
