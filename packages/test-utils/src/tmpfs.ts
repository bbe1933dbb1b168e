import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/**
 * Mounts a tmpfs of `size` (e.g. "256k") on a fresh `/tmp/sink-*` directory, unmounted and
 * removed when the test finishes. Needs root; throws (the test fails) when the mount fails.
 */
export function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sink-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`cannot mount a tmpfs on ${dir} (tests need root): ${e.stderr?.toString() || e.message}`);
  }
  onTestFinished(() => {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes `path` until the filesystem refuses (ENOSPC); returns the bytes written. */
export function fillUp(path: string): number {
  const fd = openSync(path, "a");
  const chunk = Buffer.alloc(4096, 0x2e);
  let total = 0;
  try {
    for (;;) total += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return total;
}
