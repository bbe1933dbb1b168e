// What the ssh-probe benchmarks share: the simulated fleet in a child process (so the client's CPU is
// measured alone), a probe run counted, and a median. Run `pnpm build` at the repository root first.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseInventory } from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

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
  const child = spawn(process.execPath, [cli, "--hosts", String(n), "--out", out, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", r),
    );
    rmSync(out, { recursive: true, force: true });
  };
  let ready;
  try {
    ready = await new Promise((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(() => reject(new Error("fleet not ready within 120 s")), 120_000);
      child.stdout.on("data", (d) => {
        buf += d;
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(JSON.parse(buf.slice(0, nl)));
        }
      });
      child.once("exit", (code) => reject(new Error(`fleet exited with ${code}`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const targets = parseInventory(readFileSync(ready.inventory, "utf8")).targets.map((t) => t.text);
  return { ready, targets, stop };
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
