// What the ssh-probe benchmarks share: the simulated fleet in a child process (so the client's CPU is
// measured alone), on CPUs of its own where the machine has two or more (bench/cpu-placement.mjs;
// UPTIME_BENCH_NO_PIN=1 shares them), a probe run counted, and a median. Run `pnpm build` at the repository
// root first.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describePlacement, onFleetCpus, pinClients } from "../../../bench/cpu-placement.mjs";
import { firstLine, startCommand, stopAll } from "../../../scripts/pipeline.mjs";
import { parseInventory } from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Where this benchmark's fleet and client run; decided once, on the first fleet started. */
let placement;

/** The CPU placement of the fleets started so far, for a benchmark's summary. */
export function placementText() {
  return describePlacement(placement);
}

/** Starts `node script ...args` on the fleet's CPUs (see bench/cpu-placement.mjs), stdout piped. */
function startOnFleetCpusChild(name, script, args) {
  placement ??= pinClients() ?? null;
  return startCommand(name, ...onFleetCpus(placement ?? undefined, script, args), { stdout: "pipe" });
}

/** Resolves with `child`'s first line; rejects when it exits first or prints nothing within `ms`. */
async function readyLine(child, ms) {
  let timer;
  try {
    return await Promise.race([
      firstLine(child),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${child.label} not ready within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `uptime-test-fleet --hosts n` (plus `extra` flags) and resolves with its ready line, its targets
 * and `stop()`, which ends the fleet and removes its files.
 */
export async function startFleet(n, extra = []) {
  if (!existsSync(join(root, "packages", "test-fleet", "dist", "cli.js"))) {
    throw new Error("packages/test-fleet is not built: run `pnpm build` at the repository root first");
  }
  const out = mkdtempSync(join(tmpdir(), "ssh-probe-bench-"));
  const cli = join(root, "packages", "test-fleet", "bin", "uptime-test-fleet.js");
  const child = startOnFleetCpusChild("fleet", cli, ["--hosts", String(n), "--out", out, ...extra]);
  const stop = async () => {
    await stopAll([child]);
    rmSync(out, { recursive: true, force: true });
  };
  let ready;
  try {
    ready = JSON.parse(await readyLine(child, 120_000));
  } catch (error) {
    await stop();
    throw error;
  }
  const targets = parseInventory(readFileSync(ready.inventory, "utf8")).targets.map((t) => t.text);
  return { ready, targets, stop };
}

/**
 * Starts `node script ...args` on the fleet's CPUs (where the fleet's own ssh-agent runs) and resolves once
 * it prints its first line; `stop()` ends it.
 */
export async function startOnFleetCpus(script, args) {
  const child = startOnFleetCpusChild(script, script, args);
  try {
    await readyLine(child, 30_000);
  } catch (error) {
    await stopAll([child]);
    throw error;
  }
  return { stop: () => stopAll([child]) };
}

/** Probes every target once: how many answered, how many failed, and the first failure. */
export async function runAll(probe, targets) {
  let ok = 0;
  let failed = 0;
  let firstError;
  for await (const r of probe.probeAll(targets)) {
    if (r.ok) ok++;
    else {
      failed++;
      firstError ??= `${r.error.code} ${r.error.message}`;
    }
  }
  return { ok, failed, firstError };
}

/** The median of numbers (NaN for none). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
